"""Start a cold audit's slow subprocesses before luigi is even imported.

``python -m csci_utils.audit`` calls this first: importing luigi takes a
quarter of a second, time in which the interpreter probes, pipdeptree's
summary and the source parser can already run on the other cores. The
tasks later collect what was started here (same process, same registries);
anything not started here they start themselves (``AuditTask.start_ahead``),
so this table only decides what gets a head start, never what is correct.
"""

from __future__ import annotations

from pathlib import Path

from .errors import AuditError
from .imports import start_parsing
from .interpreter import base_python, resolve_python, start_inventory
from .pipenv_venv import locate_pipenv_venv
from .pipfile import check_pipfile
from .tree import start_summary

# The background work each task's chain needs, and the task whose output
# folder shows it has been done before (a head start is for a cold folder).
NEEDS = {
    "ScanMain": ("main inventory",),
    "ScanPipenv": ("venv inventory",),
    "LocatePaths": ("main inventory", "venv inventory"),
    "BuildTree": ("venv inventory", "summary"),
    "RenderTravis": ("venv inventory",),
    "UpdateCIFile": ("venv inventory",),
    "Diagnose": ("main inventory", "venv inventory", "sources"),
    "AuditAll": ("main inventory", "venv inventory", "summary", "sources"),
}
DONE_BY = {"main inventory": "ScanMain", "venv inventory": "ScanPipenv", "summary": "BuildTree",
           "sources": "Diagnose"}


def venv_python(project_dir: Path, audit_root: Path, pipenv: str = "") -> str:
    """The project's venv interpreter; the Pipfile is checked first, so pipenv is never
    asked about a malformed one."""
    check_pipfile(project_dir / "Pipfile")
    return locate_pipenv_venv(project_dir, cache_dir=audit_root, pipenv=pipenv or None).python


def start(work: str, project_dir: Path, audit_root: Path, main_python: str = "",
          pipenv: str = "") -> bool:
    """Start one piece of background work (a key of DONE_BY); False if it could not start.

    Problems (no Pipfile, no venv, a missing interpreter) are left for the
    tasks to report in their own words.
    """
    try:
        if work == "main inventory":
            start_inventory(resolve_python(main_python) if main_python else base_python())
        elif work == "sources":
            start_parsing(project_dir)
        elif work == "venv inventory":
            start_inventory(venv_python(project_dir, audit_root, pipenv))
        else:
            start_summary(resolve_python(venv_python(project_dir, audit_root, pipenv)))
    except AuditError:
        return False
    return True


def head_start(task: str, project_dir: Path, audit_root: Path, main_python: str = "",
               pipenv: str = "") -> list[str]:
    """Start what ``task`` will need and has never been done in ``audit_root``; what started."""
    cold = [work for work in NEEDS.get(task, ())
            if not any(audit_root.glob(f"{DONE_BY[work]}-*"))]
    return [work for work in cold if start(work, project_dir, audit_root, main_python, pipenv)]
