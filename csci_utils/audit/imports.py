"""What a project's own code imports, found with ``ast`` (nothing is executed)."""

from __future__ import annotations

import ast
import configparser
import fnmatch
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


def _declared_layout(project_dir: Path) -> tuple[list[Path], set[str]]:
    """Import roots and top-level names that setup.py or pyproject.toml declare."""
    roots, names = [], set()
    setup = _literal_keywords(project_dir / "setup.py")
    try:
        with open(project_dir / "pyproject.toml", "rb") as handle:
            pyproject = tomllib.load(handle).get("tool", {}).get("setuptools", {})
    except (OSError, ValueError, RecursionError):
        pyproject = {}
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


def first_party_names(project_dir: Path) -> set[str]:
    """What the project itself provides, as Python sees it on CI.

    Top-level packages (PEP 420 namespaces too) and modules at the import roots
    (the project folder, ``src/``, a ``package_dir`` from setup.py or
    pyproject.toml), and the names setup.py or pyproject.toml declare. A loose
    module deeper down (``scripts/six.py``) is not among them: only its own
    folder's scripts import it (``scan_imports``).
    """
    roots, names = _declared_layout(project_dir)
    for root in {project_dir, project_dir / "src", *roots}:
        names |= _names_at(root)
    return names


# Files other than the .py files that decide what the project's code can import: a Diagnose
# fingerprint covers them too.
LAYOUT_FILES = ("pyproject.toml", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg")
# A script that edits its own path: sys.path.insert/append/extend, sys.path[...] = ...,
# sys.path += ..., sys.path = ..., site.addsitedir(...).
EDITS_SYS_PATH = re.compile(rb"\bsys\.path\s*(?:\.\s*(?:insert|append|extend)\s*\(|\[[^\]\n]*\]"
                            rb"\s*=|\+=|=(?!=))|\bsite\.addsitedir\s*\(")


def _pytest_settings(project_dir: Path) -> dict[str, str]:
    """The settings of the config file pytest picks in ``project_dir``, lists as text.

    A pytest.ini counts even without a [pytest] section; the others only with theirs.
    """
    def text(value) -> str:
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest"),
                          ("pyproject.toml", None), ("tox.ini", "pytest"),
                          ("setup.cfg", "tool:pytest")):
        path = project_dir / name
        try:
            if section is None:
                with open(path, "rb") as handle:
                    table = tomllib.load(handle).get("tool", {}).get("pytest", {})
                settings = table.get("ini_options", table) if table else None
            else:
                parser = configparser.ConfigParser(interpolation=None, strict=False)
                parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
                settings = dict(parser[section]) if parser.has_section(section) else None
        except (OSError, ValueError, RecursionError, configparser.Error, AttributeError):
            continue
        if settings is not None or name.endswith("pytest.ini"):
            return {key: text(value) for key, value in (settings or {}).items()}
    return {}


def _pytest_paths(project_dir: Path, files: list[Path]) -> tuple[set[Path], set[Path]]:
    """What pytest puts on sys.path, and the files it imports itself.

    Its ``pythonpath`` setting, and in its default import mode ("prepend") for each
    test module and conftest.py the first folder up from it without an __init__.py.
    """
    settings = _pytest_settings(project_dir)
    paths = {project_dir / entry for entry in settings.get("pythonpath", "").split()}
    patterns = settings.get("python_files", "test_*.py *_test.py").split()
    tests = {file for file in files if file.name == "conftest.py"
             or any(fnmatch.fnmatch(file.name, pattern) for pattern in patterns)}
    if re.search(r"--import-mode[= ]importlib\b", settings.get("addopts", "")):
        return paths, tests
    packages = {file.parent for file in files if file.name == "__init__.py"}
    for file in tests:
        folder = file.parent
        while folder in packages and folder != project_dir:
            folder = folder.parent
        paths.add(folder)
    return paths, tests


def _project_modules(project_dir: Path, files: list[Path]) -> dict[str, str]:
    """Each top-level name some folder of the project could provide, and where the first is."""
    found: dict[str, str] = {}
    for file in files:
        parts = file.relative_to(project_dir).parts
        for depth, part in enumerate(parts):
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
    first_party = first_party_names(project_dir)
    # Running a script puts its folder first on sys.path: its siblings are its own too.
    own = {folder: first_party | _names_at(folder) for folder in {f.parent for f in files}}
    # Under pytest, its test files and what lies below the folders it adds see those too.
    pytest_paths, pytest_files = _pytest_paths(project_dir, files)
    pytest_names = set().union(*map(_names_at, pytest_paths))
    below = [path for path in pytest_paths if path != project_dir]
    for folder in own:
        if any(folder == path or path in folder.parents for path in below):
            own[folder] = own[folder] | pytest_names
    in_project = _project_modules(project_dir, files)
    sites = []
    for file in files:
        relative = file.relative_to(project_dir).as_posix()
        if relative == "setup.py":
            continue  # build-time imports (setuptools): the build backend brings them
        names = own[file.parent] | (pytest_names if file in pytest_files else set())
        edits_path = None
        for module, line, optional, dotted, guards in parse_file(str(file)) or ():
            if module in stdlib or module == "__future__" or module in names:
                continue
            local = ""
            if module in in_project:  # the project's own code, if this file adds its folder
                if edits_path is None:
                    edits_path = bool(EDITS_SYS_PATH.search(file.read_bytes()))
                local = in_project[module] if edits_path else ""
            sites.append(ImportSite(module, relative, line, optional, dotted,
                                    tuple(tuple(g) for g in guards), local))
    return sites
