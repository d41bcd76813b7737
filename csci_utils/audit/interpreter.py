"""Inspect an interpreter from the outside: which Python is MAIN, what it holds, and a cheap fingerprint.

Everything runs the interpreter in a subprocess, without ``-I``: isolated mode
would hide the user site and PYTHONPATH, the very places where "it works at
home" packages hide.
"""

from __future__ import annotations

import atexit
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


def _start(python: str, source: str) -> subprocess.Popen:
    try:
        return subprocess.Popen([python, "-c", source], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    except OSError as error:
        raise AuditError(f"cannot run {python}: {error.strerror}; pass a working interpreter") from None


def _answer(process: subprocess.Popen, python: str, what: str) -> dict:
    try:
        stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AuditError(f"{python} did not answer the {what} in {PROBE_TIMEOUT_S} s") from None
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise AuditError(f"{python} failed the {what} (exit {process.returncode}): {last}")
    try:
        return json.loads(stdout)
    except ValueError:
        raise AuditError(f"{python} printed something other than the {what}'s JSON; "
                         "is it a Python interpreter?") from None


@dataclass
class _Started:
    """A probe already running in the background, and the state it started from."""

    process: subprocess.Popen
    state: tuple | None


# Probes started ahead of need, so that two interpreters are inspected at the
# same time (each start costs a tenth of a second or more). Only this process's
# current run uses them: nothing is kept on disk.
_started_inventories: dict[str, _Started] = {}
_started_quick: dict[str, subprocess.Popen] = {}


def stop_at_exit(process: subprocess.Popen) -> None:
    """Kill ``process`` when this one exits, if nobody collected it (a run that failed early)."""
    def stop() -> None:
        if process.poll() is None:
            process.kill()
            process.communicate()
    atexit.register(stop)


def start_inventory(python: str, with_fingerprint: bool = False) -> None:
    """Start ``inspect_interpreter(python)``'s probe now; the call collects it later.

    ``with_fingerprint``: started together with the sys.path probe, so its
    answer is as fresh as the fingerprint's.
    """
    python = resolve_python(python)
    if python not in _started_inventories:
        process = _start(python, PROBE_SOURCE)
        stop_at_exit(process)
        state = None if with_fingerprint else environment_state(python)
        _started_inventories[python] = _Started(process, state)


def _still_valid(started: _Started, python: str) -> bool:
    if started.state is None:  # nothing may have changed since the fingerprint's probe
        return _fresh_shape(_shape_key(python)) is not None
    return started.state == environment_state(python)


def inspect_interpreter(python: str) -> Inventory:
    """The inventory of ``python``: version, sys.path, site dirs and every distribution."""
    python = resolve_python(python)
    started = _started_inventories.pop(python, None)
    if started is not None and not _still_valid(started, python):
        # Something was installed or removed since it started: its answer may be stale.
        started.process.kill()
        started.process.communicate()
        started = None
    process = started.process if started is not None else _start(python, PROBE_SOURCE)
    data = _answer(process, python, "inventory probe")
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


def _shape_key(python: str) -> tuple:
    executable = os.path.realpath(python)
    pyvenv_cfg = Path(python).parent.parent / "pyvenv.cfg"
    return (python, executable, _stamp((executable, str(pyvenv_cfg))),
            tuple(os.environ.get(name) for name in PATH_SHAPING_ENV))


def environment_state(python: str) -> tuple:
    """What a probe's answer depends on: the interpreter and its watched directories' stamps."""
    key = _shape_key(python)
    shape = _shapes.get(key)
    return key, (_stamp(shape.watched) if shape is not None else None)


def _fresh_shape(key: tuple) -> _PathShape | None:
    shape = _shapes.get(key)
    return shape if shape is not None and _stamp(shape.watched) == shape.stamps else None


def start_fingerprints(*pythons: str) -> None:
    """Start the sys.path probes of several interpreters at once (each takes a process start)."""
    for python in pythons:
        python = resolve_python(python)
        if python not in _started_quick and _fresh_shape(_shape_key(python)) is None:
            _started_quick[python] = process = _start(python, _QUICK_PROBE)
            stop_at_exit(process)


def environment_fingerprint(python: str) -> str:
    """A short hash that changes when ``python`` or what it can import changes.

    Costs one tiny interpreter start per process and interpreter, then only
    ``stat`` calls: the directory list is remembered, and re-read whenever one
    of the watched directories changed.
    """
    python = resolve_python(python)
    key = _shape_key(python)
    shape = _fresh_shape(key)
    started = _started_quick.pop(python, None)
    if shape is None:
        process = started if started is not None else _start(python, _QUICK_PROBE)
        quick = _answer(process, python, "sys.path probe")
        watched = _watched_dirs(quick)
        shape = _PathShape(quick["version"], watched, _stamp(watched))
        _shapes[key] = shape
    elif started is not None:
        started.communicate()  # started by a caller that did not know the answer was fresh
    payload = json.dumps([key, shape.version, shape.stamps])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
