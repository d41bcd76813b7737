"""Names (never values) of the secrets a project keeps in its ``.env`` file.

pipenv loads ``.env`` into every ``pipenv run``; CI needs the same names set
as protected variables. Values are not even kept in memory.
"""

from __future__ import annotations

import re
from pathlib import Path

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def secret_names(project_dir: str | Path) -> list[str]:
    """The variable names assigned in ``project_dir/.env``, sorted; [] without one."""
    try:
        lines = (Path(project_dir) / ".env").read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    return sorted({m.group(1) for line in lines if (m := _ASSIGNMENT.match(line))})
