"""Dependency audit: why does it work at home and break on CI?

Plain functions, no Luigi: discovery (``interpreter``, ``pipenv_venv``,
``pipfile``, ``imports``, ``env_file``), analysis (``locate``, ``tree``,
``validate``, ``diagnose``), data (``models``) and rendering (``render_ci``,
``render_report``). The Luigi tasks that wire them to files are in
``csci_utils.tasks.audit``.
"""

from .diagnose import diagnose
from .errors import AuditError
from .imports import scan_imports
from .interpreter import base_python, environment_fingerprint, inspect_interpreter
from .locate import locate
from .pipenv_venv import locate_pipenv_venv
from .pipfile import pipfile_hash, read_lock, read_pipfile
from .render_ci import ci_plan, render_ci, render_pins
from .render_report import render_diagnosis, render_tree_mermaid, render_tree_text
from .tree import venv_tree

__all__ = [
    "AuditError", "base_python", "ci_plan", "diagnose", "environment_fingerprint",
    "inspect_interpreter", "locate", "locate_pipenv_venv", "pipfile_hash", "read_lock",
    "read_pipfile", "render_ci", "render_diagnosis", "render_pins", "render_tree_mermaid",
    "render_tree_text", "scan_imports", "venv_tree",
]
