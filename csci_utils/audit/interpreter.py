"""Inspect an interpreter from the outside: which Python is MAIN, what it holds, and a cheap fingerprint.

Everything runs the interpreter in a subprocess, without ``-I``: isolated mode
would hide the user site and PYTHONPATH, the very places where "it works at
home" packages hide.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import AuditError
from .models import Inventory

PROBE_SOURCE = (Path(__file__).with_name("probe.py")).read_text()
PROBE_TIMEOUT_S = 120
# Variables that change what an interpreter puts on sys.path.
PATH_SHAPING_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE",
                    "PYTHONSAFEPATH")


def base_python() -> str:
    """The interpreter behind the current environment: where people ``pip install`` globally."""
    base = getattr(sys, "_base_executable", None)
    if base and os.path.exists(base) and sys.prefix != sys.base_prefix:
        return base
    if sys.prefix == sys.base_prefix:
        return sys.executable
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3", "python"):
        candidate = Path(sys.base_prefix) / ("python.exe" if os.name == "nt" else f"bin/{name}")
        if candidate.exists():
            return str(candidate)
    raise AuditError(f"cannot find the base interpreter under {sys.base_prefix}; "
                     "pass --main-python PATH")


def resolve_python(python: str, parameter: str = "--main-python") -> str:
    """An absolute path to an existing interpreter, or an AuditError naming ``parameter``."""
    found = shutil.which(python) if os.sep not in python else python
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise AuditError(f"main python not found: {python!r} ({parameter}); "
                         "pass the path of an existing interpreter")
    return os.path.abspath(found)


def _run(python: str, source: str, what: str) -> dict:
    try:
        completed = subprocess.run([python, "-c", source], capture_output=True, text=True,
                                   timeout=PROBE_TIMEOUT_S)
    except OSError as error:
        raise AuditError(f"cannot run {python}: {error.strerror}; pass a working interpreter") from None
    except subprocess.TimeoutExpired:
        raise AuditError(f"{python} did not answer the {what} in {PROBE_TIMEOUT_S} s") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise AuditError(f"{python} failed the {what} (exit {completed.returncode}): {last}")
    try:
        return json.loads(completed.stdout)
    except ValueError:
        raise AuditError(f"{python} printed something other than the {what}'s JSON; "
                         "is it a Python interpreter?") from None


def inspect_interpreter(python: str) -> Inventory:
    """The inventory of ``python``: version, sys.path, site dirs and every distribution."""
    python = resolve_python(python)
    data = _run(python, PROBE_SOURCE, "inventory probe")
    return Inventory.from_dict({"python": python, **data})


# --- fingerprint ----------------------------------------------------------------

_QUICK_PROBE = (
    "import json, site, sys\n"
    "path = sys.path[1:] if sys.path[:1] == [''] else sys.path\n"
    "user = site.getusersitepackages() if hasattr(site, 'getusersitepackages') else None\n"
    "sites = site.getsitepackages() if hasattr(site, 'getsitepackages') else []\n"
    "print(json.dumps({'version': sys.version, 'path': path, 'user_site': user, 'sites': sites}))\n"
)


@dataclass(frozen=True)
class _PathShape:
    version: str
    watched: tuple[str, ...]  # the directories whose contents decide the inventory
    stamps: tuple[tuple[str, int | None], ...]


_shapes: dict[tuple, _PathShape] = {}


def _stamp(paths: tuple[str, ...]) -> tuple[tuple[str, int | None], ...]:
    stamps = []
    for path in paths:
        try:
            stamps.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            stamps.append((path, None))
    return tuple(stamps)


def _watched_dirs(quick: dict) -> tuple[str, ...]:
    """Directories where installing or removing a distribution changes the mtime.

    Site dirs, the user site (even before it exists) and any sys.path entry that
    holds dist-info folders. Project source folders put on the path by editable
    installs are left out: their mtime changes with every file saved there.
    """
    watched = [*quick["sites"], *([quick["user_site"]] if quick["user_site"] else [])]
    for entry in quick["path"]:
        if entry in watched or not os.path.isdir(entry):
            continue
        try:
            with os.scandir(entry) as entries:
                if any(e.name.endswith((".dist-info", ".egg-info")) for e in entries):
                    watched.append(entry)
        except OSError:
            continue
    return tuple(dict.fromkeys(watched))


def environment_fingerprint(python: str) -> str:
    """A short hash that changes when ``python`` or what it can import changes.

    Costs one tiny interpreter start per process and interpreter, then only
    ``stat`` calls: the directory list is remembered, and re-read whenever one
    of the watched directories changed.
    """
    python = resolve_python(python)
    executable = os.path.realpath(python)
    pyvenv_cfg = Path(python).parent.parent / "pyvenv.cfg"
    key = (python, executable, _stamp((executable, str(pyvenv_cfg))),
           tuple(os.environ.get(name) for name in PATH_SHAPING_ENV))
    shape = _shapes.get(key)
    if shape is None or _stamp(shape.watched) != shape.stamps:
        quick = _run(python, _QUICK_PROBE, "sys.path probe")
        watched = _watched_dirs(quick)
        shape = _PathShape(quick["version"], watched, _stamp(watched))
        _shapes[key] = shape
    payload = json.dumps([key, shape.version, shape.stamps])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
