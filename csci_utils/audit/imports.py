"""What a project's own code imports, found with ``ast`` (nothing is executed)."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import functools
import os
import re
from pathlib import Path

from .models import ImportSite
from .pipfile import tomllib
from .source_imports import SKIPPED_DIRS, parse_file, project_python_file_names


def _holds_python(folder: str, depth: int = 3) -> bool:
    """A package or a PEP 420 namespace: .py files in it or a few levels down."""
    try:
        with os.scandir(folder) as entries:
            entries = list(entries)
    except OSError:
        return False
    if any(e.name.endswith(".py") and e.is_file() for e in entries):
        return True
    return depth > 1 and any(
        e.is_dir() and e.name.isidentifier() and e.name not in SKIPPED_DIRS
        and _holds_python(e.path, depth - 1) for e in entries)


def _names_at(root: Path) -> set[str]:
    """Top-level modules importable from ``root``: packages, PEP 420 namespaces, modules."""
    names = set()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return names
    for entry in entries:
        if entry.is_dir():
            if (not entry.name.isidentifier() or entry.name in SKIPPED_DIRS
                    or os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))):
                continue
            if _holds_python(entry.path):
                names.add(entry.name)
        elif entry.name.endswith(".py") and entry.name[:-3].isidentifier():
            names.add(entry.name[:-3])
    return names


def _literal_keywords(setup_py: Path) -> dict:
    """The literal keyword arguments of ``setup(...)`` in setup.py, parsed, never run."""
    try:
        tree = ast.parse(setup_py.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) \
                == "setup":
            for keyword in node.keywords:
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except (ValueError, SyntaxError, TypeError):
                    continue
    return found


def _pyproject_tools(project_dir: Path) -> dict:
    """pyproject.toml's [tool] table: {} where there is none, or it does not parse."""
    try:
        with open(project_dir / "pyproject.toml", "rb") as handle:
            tools = tomllib.load(handle).get("tool")
    except (OSError, ValueError, RecursionError):
        return {}
    return tools if isinstance(tools, dict) else {}


def _table(tools: dict, name: str) -> dict:
    return tools[name] if isinstance(tools.get(name), dict) else {}


def _declared_layout(project_dir: Path, tools: dict) -> tuple[list[Path], set[str]]:
    """Import roots and top-level names that setup.py or pyproject.toml declare."""
    roots, names = [], set()
    setup = _literal_keywords(project_dir / "setup.py")
    pyproject = _table(tools, "setuptools")
    package_dirs = {**(setup.get("package_dir") or {}), **(pyproject.get("package-dir") or {})}
    if isinstance(package_dirs.get(""), str):
        roots.append(project_dir / package_dirs[""])
    packages = pyproject.get("packages")
    if isinstance(packages, dict):
        roots += [project_dir / where for where in packages.get("find", {}).get("where", ())]
        packages = None
    for value in (setup.get("packages"), setup.get("py_modules"), packages,
                  pyproject.get("py-modules")):
        if isinstance(value, (list, tuple)):
            names.update(str(name).split(".")[0] for name in value)
    return roots, names


def first_party_names(project_dir: Path, tools: dict) -> set[str]:
    """What the project itself provides, as Python sees it on CI.

    Top-level packages (PEP 420 namespaces too) and modules at the import roots
    (the project folder, ``src/``, a ``package_dir`` from setup.py or
    pyproject.toml), and the names setup.py or pyproject.toml declare. A loose
    module deeper down (``scripts/six.py``) is not among them: only its own
    folder's scripts import it (``scan_imports``).
    """
    roots, names = _declared_layout(project_dir, tools)
    for root in {project_dir, project_dir / "src", *roots}:
        names |= _names_at(root)
    return names


# Files other than the .py files that decide what the project's code can import: a Diagnose
# fingerprint covers them too.
LAYOUT_FILES = ("pyproject.toml", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg")
# Code that edits sys.path: sys.path.insert/append/extend, sys.path[...] = ...,
# sys.path += ..., sys.path = ..., site.addsitedir(...), pytest's monkeypatch.syspath_prepend.
EDITS_SYS_PATH = re.compile(rb"\bsys\.path\s*(?:\.\s*(?:insert|append|extend)\s*\(|\[[^\]\n]*\]"
                            rb"\s*=|\+=|=(?!=))|\bsite\.addsitedir\s*\(|\.syspath_prepend\s*\(")


def _pytest_settings(project_dir: Path, tools: dict) -> dict[str, str]:
    """The settings of the config file pytest picks in ``project_dir``, lists as text.

    A pytest.ini counts even without a [pytest] section; the others only with theirs.
    """
    def text(value) -> str:
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest"),
                          ("pyproject.toml", None), ("tox.ini", "pytest"),
                          ("setup.cfg", "tool:pytest")):
        if section is None:  # [tool.pytest.ini_options], or pytest 9's [tool.pytest]
            table = _table(tools, "pytest")
            settings = table.get("ini_options", table) if table else None
        else:
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                parser.read_string((project_dir / name).read_text(encoding="utf-8",
                                                                  errors="replace"))
            except (OSError, configparser.Error):
                continue
            settings = dict(parser[section]) if parser.has_section(section) else None
        if isinstance(settings, dict) or name.endswith("pytest.ini"):
            return {key: text(value) for key, value in (settings or {}).items()}
    return {}


def _pytest_paths(project_dir: Path, files: list[Path], packages: set[Path],
                  tools: dict) -> tuple[set[Path], set[Path]]:
    """What pytest puts on sys.path, and the files it imports itself.

    Its ``pythonpath`` setting, and in its default import mode ("prepend") for each
    test module and conftest.py the first folder up from it without an __init__.py.
    """
    settings = _pytest_settings(project_dir, tools)
    paths = {project_dir / entry for entry in settings.get("pythonpath", "").split()}
    patterns = settings.get("python_files", "test_*.py *_test.py").split()
    tests = {file for file in files if file.name == "conftest.py"
             or any(fnmatch.fnmatch(file.name, pattern) for pattern in patterns)}
    if re.search(r"--import-mode[= ]importlib\b", settings.get("addopts", "")):
        return paths, tests
    for file in tests:
        folder = file.parent
        while folder in packages and folder != project_dir:
            folder = folder.parent
        paths.add(folder)
    return paths, tests


def _project_modules(project_dir: Path, files: list[Path],
                     packages: set[Path]) -> dict[str, str]:
    """Each top-level name that a folder of the project put on sys.path could provide, and
    where the first is. A package's own folder is left out: its modules are imported
    through it (``csci_utils/luigi`` is not a top-level ``luigi``)."""
    cut = len(os.path.join(str(project_dir), ""))  # paths as text: pathlib costs ms here
    package_dirs = {str(package)[cut:] for package in packages}
    found: dict[str, str] = {}
    for file in files:
        parts = str(file)[cut:].split(os.sep)
        for depth, part in enumerate(parts):
            if os.sep.join(parts[:depth]) in package_dirs:
                break
            name = part[:-3] if depth == len(parts) - 1 else part
            if name.isidentifier():
                found.setdefault(name, "/".join(parts[:depth + 1]))
    return found


def scan_imports(project_dir: str | os.PathLike,
                 stdlib: frozenset[str] | set[str]) -> list[ImportSite]:
    """Every absolute import of a third-party module in the project's code.

    The standard library (``stdlib``: the venv interpreter's
    ``sys.stdlib_module_names``) and the project's own packages and modules
    are left out, and so are files whose import statements do not parse
    (``source_imports.parse_file``).
    """
    project_dir = Path(project_dir).resolve()
    files = [Path(name) for name in project_python_file_names(project_dir)]
    tools = _pyproject_tools(project_dir)
    first_party = first_party_names(project_dir, tools)
    # Running a script puts its folder first on sys.path: its siblings are its own too.
    own = {folder: first_party | _names_at(folder) for folder in {f.parent for f in files}}
    # Under pytest, its test files and what lies below the folders it adds see those too.
    packages = {file.parent for file in files if file.name == "__init__.py"}
    pytest_paths, pytest_files = _pytest_paths(project_dir, files, packages, tools)
    pytest_names = set().union(*map(_names_at, pytest_paths))
    below = [path for path in pytest_paths if path != project_dir]
    pytest_folders = {folder for folder in own
                      if any(folder == path or path in folder.parents for path in below)}
    for folder in pytest_folders:
        own[folder] = own[folder] | pytest_names
    in_project = _project_modules(project_dir, files, packages)
    conftests = {file.parent: file for file in files if file.name == "conftest.py"}

    @functools.cache
    def edits_path(path: Path) -> bool:
        return bool(EDITS_SYS_PATH.search(path.read_bytes()))

    def path_changed(file: Path) -> bool:
        """The file edits sys.path, or under pytest a conftest.py above it does."""
        under_pytest = file in pytest_files or file.parent in pytest_folders
        return edits_path(file) or (under_pytest and any(
            edits_path(conftests[folder]) for folder in (file.parent, *file.parent.parents)
            if folder in conftests))

    sites = []
    for file in files:
        relative = file.relative_to(project_dir).as_posix()
        if relative == "setup.py":
            continue  # build-time imports (setuptools): the build backend brings them
        names = own[file.parent] | (pytest_names if file in pytest_files else set())
        for module, line, optional, dotted, guards in parse_file(str(file)) or ():
            if module in stdlib or module == "__future__" or module in names:
                continue
            # The project's own code, where a sys.path change may put its folder on the path.
            local = in_project[module] if module in in_project and path_changed(file) else ""
            sites.append(ImportSite(module, relative, line, optional, dotted,
                                    tuple(tuple(g) for g in guards), local))
    return sites
