"""What a project's own code imports, found with ``ast`` (nothing is executed)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from .models import ImportSite

# Folders that hold someone else's code or generated files, never the project's.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".audit", ".tox", ".nox", ".venv", "venv",
                          "env", "node_modules", "__pycache__", "build", "dist", "site-packages",
                          ".mypy_cache", ".pytest_cache", ".eggs"})


def project_python_file_names(project_dir: Path) -> list[str]:
    """``project_python_files`` as plain strings (the Diagnose fingerprint lists them often)."""
    found = []
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    return found


def project_python_files(project_dir: Path) -> list[Path]:
    """The project's .py files, leaving out virtualenvs (anything with a pyvenv.cfg) and caches."""
    return [Path(name) for name in project_python_file_names(project_dir)]


def own_module_names(project_dir: Path, files: list[Path]) -> set[str]:
    """Top-level names the project itself provides.

    A package's name is its outermost folder with an ``__init__.py``; a .py file
    outside any package (a script, a conftest, a test helper) can be imported
    by its siblings under its own stem.
    """
    names = set()
    for file in files:
        folder = file.parent
        if not (folder / "__init__.py").exists():
            names.add(file.stem)
            continue
        while (folder.parent / "__init__.py").exists() and folder.parent != project_dir:
            folder = folder.parent
        names.add(folder.name)
    return names


def _is_import_error_guard(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(
        isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError", "Exception"}
        for n in names)


STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _imports_in(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(top-level module, line, optional) for each absolute import in a module.

    Imports are statements, so only statement lists are walked (function and
    class bodies, branches, handlers), not every expression node.
    """
    found = []

    def walk(statements: list, optional: bool) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.extend((alias.name.split(".")[0], node.lineno, optional)
                             for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    found.append((node.module.split(".")[0], node.lineno, optional))
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                walk(node.body, optional or any(_is_import_error_guard(h) for h in node.handlers))
                for name in ("handlers", "orelse", "finalbody"):
                    walk(getattr(node, name), optional)
            else:
                for name in STATEMENT_LISTS:
                    children = getattr(node, name, None)
                    if isinstance(children, list):
                        walk(children, optional)

    walk(tree.body, False)
    return found


# Parsed files, keyed on path, size and mtime as the Diagnose fingerprint is:
# filled ahead of need by parse_ahead() while the interpreter probes run.
_parsed: dict[tuple[str, int, int], list[tuple[str, int, bool]] | None] = {}


def file_imports(path: str) -> list[tuple[str, int, bool]] | None:
    """``_imports_in`` of one file, or None when it cannot be read or parsed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _parsed:
        try:
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read(), filename=path)
        except (SyntaxError, ValueError, OSError):
            _parsed[key] = None
        else:
            _parsed[key] = _imports_in(tree)
    return _parsed[key]


def parse_ahead(project_dir: str | os.PathLike) -> None:
    """Parse the project's files now, so that ``scan_imports`` finds them done."""
    for path in project_python_file_names(Path(project_dir).resolve()):
        file_imports(path)


def scan_imports(project_dir: str | os.PathLike, stdlib: frozenset[str] | set[str]) -> list[ImportSite]:
    """Every absolute import of a third-party module in the project's code.

    The standard library (``stdlib``: the venv interpreter's
    ``sys.stdlib_module_names``) and the project's own packages and modules
    are left out. Files that do not parse are skipped: the audit is about
    dependencies, not syntax.
    """
    project_dir = Path(project_dir).resolve()
    files = project_python_files(project_dir)
    own = own_module_names(project_dir, files)
    sites = []
    for file in files:
        found = file_imports(str(file))
        if found is None:
            continue
        relative = file.relative_to(project_dir).as_posix()
        for module, line, optional in found:
            if module in stdlib or module in own or module == "__future__":
                continue
            sites.append(ImportSite(module, relative, line, optional))
    return sites
