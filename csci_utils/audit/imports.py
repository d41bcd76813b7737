"""What a project's own code imports, found with ``ast`` (nothing is executed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from . import source_imports
from .interpreter import StartedAhead, stop_at_exit, yield_to_the_critical_path
from .models import ImportSite
from .source_imports import SKIPPED_DIRS, parse_file, project_python_file_names

__all__ = ["SKIPPED_DIRS", "file_imports", "own_module_names", "project_python_file_names",
           "project_python_files", "scan_imports", "start_parsing"]


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


# Parsed files, keyed on path, size and mtime as the Diagnose fingerprint is:
# filled ahead of need by a parser process (start_parsing) while the
# interpreter probes run.
_parsed: dict[tuple[str, int, int], list[tuple[str, int, bool]] | None] = {}
_parsers = StartedAhead()  # project folder -> Popen
PARSER_TIMEOUT_S = 120


def file_imports(path: str) -> list[tuple[str, int, bool]] | None:
    """``imports_in`` of one file, or None when it cannot be read or parsed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _parsed:
        found = parse_file(path)
        if found is None:
            return None
        _parsed[found[0]] = found[1]
        return found[1]
    return _parsed[key]


def start_parsing(project_dir: str | os.PathLike) -> None:
    """Parse the project's files in a process of its own, now; ``scan_imports`` collects it.

    ``-I -S``: the parser needs nothing but the standard library, and starts
    in a hundredth of a second without site-packages.
    """
    project_dir = str(Path(project_dir).resolve())
    if project_dir in _parsers:
        return
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", source_imports.__file__, project_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True)
    except OSError:
        return  # scan_imports parses here instead
    stop_at_exit(process)
    yield_to_the_critical_path(process)
    _parsers[project_dir] = process


def _collect_parser(project_dir: Path) -> None:
    process = _parsers.pop(str(project_dir), None)
    if process is None:
        return
    try:
        stdout, _ = process.communicate(timeout=PARSER_TIMEOUT_S)
        parsed = json.loads(stdout) if process.returncode == 0 else []
    except (subprocess.TimeoutExpired, ValueError):
        process.kill()
        process.communicate()
        return  # whatever is missing is parsed here
    for path, size, mtime_ns, found in parsed:
        _parsed[(path, size, mtime_ns)] = (
            None
            if found is None
            else [(module, line, optional) for module, line, optional in found]
        )


def scan_imports(
    project_dir: str | os.PathLike, stdlib: frozenset[str] | set[str]
) -> list[ImportSite]:
    """Every absolute import of a third-party module in the project's code.

    The standard library (``stdlib``: the venv interpreter's
    ``sys.stdlib_module_names``) and the project's own packages and modules
    are left out. Files that do not parse are skipped: the audit is about
    dependencies, not syntax.
    """
    project_dir = Path(project_dir).resolve()
    _collect_parser(project_dir)
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
