"""Inspect an interpreter from the outside: which Python is MAIN, what it holds, and a cheap
fingerprint.

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

from csci_utils.one_line import last_line

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


def _start(python: str, *arguments: str) -> subprocess.Popen:
    """Run the probe in ``python``; it is killed at exit if nobody collects it."""
    try:
        process = subprocess.Popen([python, "-c", PROBE_SOURCE, *arguments], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    except OSError as error:
        raise AuditError(
            f"cannot run {python}: {error.strerror}; pass a working interpreter"
        ) from None
    stop_at_exit(process)
    return process


def _answer(process: subprocess.Popen, python: str, what: str) -> dict:
    try:
        stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AuditError(f"{python} did not answer the {what} in {PROBE_TIMEOUT_S} s") from None
    if process.returncode != 0:
        raise AuditError(f"{python} failed the {what} (exit {process.returncode}): "
                         f"{last_line(stderr, 'no output')}")
    try:
        return json.loads(stdout)
    except ValueError:
        raise AuditError(f"{python} printed something other than the {what}'s JSON; "
                         "is it a Python interpreter?") from None


def stop_at_exit(process: subprocess.Popen) -> None:
    """Kill ``process`` when this one exits, if nobody collected it (a run that failed early)."""
    def stop() -> None:
        if process.poll() is None:
            process.kill()
            process.communicate()
    atexit.register(stop)


def yield_to_the_critical_path(process: subprocess.Popen, niceness: int = 10) -> None:
    """Lower the priority of a helper whose answer is needed last.

    On a cold run the inventory probes decide every fingerprint, so luigi can
    schedule nothing before they answer; the tree summary and the source
    parser are needed only by the last tasks. On a busy machine the
    inventories and this process should get the CPU first.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, niceness)
    except (AttributeError, OSError):
        pass  # not on this platform, or the process is already gone: it only costs time


@dataclass
class Started:
    """A subprocess started ahead of need, and the state of the environment it started from.

    ``state`` is None when it started before the environment's shape was
    known: its answer then counts as fresh while the shape recorded after it
    (from this very answer, or a sys.path probe started beside it) is.
    """

    process: subprocess.Popen
    python: str
    what: str
    state: tuple | None
    answer: dict | None = None

    @classmethod
    def now(cls, process: subprocess.Popen, python: str, what: str) -> Started:
        key = _shape_key(python)
        return cls(process, python, what, environment_state(python) if key in _shapes else None)

    def collect(self) -> dict:
        if self.answer is None:
            self.answer = _answer(self.process, self.python, self.what)
        return self.answer

    def still_valid(self) -> bool:
        if self.state is None:
            key = _shape_key(self.python)
            return key not in _shapes or _fresh_shape(key) is not None
        return self.state == environment_state(self.python)

    def discard(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


class StartedAhead:
    """Subprocesses started ahead of need, by key, for the process that started them.

    A luigi worker forked with ``--workers N`` inherits the registry and the
    pipes, but not the right to read them: a second reader would find the
    answer already taken. In another process an entry is simply not there,
    and the worker starts its own probe.
    """

    def __init__(self) -> None:
        self._entries: dict = {}

    def __setitem__(self, key, value) -> None:
        self._entries[key] = (os.getpid(), value)

    def get(self, key, default=None):
        owner, value = self._entries.get(key, (None, default))
        return value if owner == os.getpid() else default

    def pop(self, key, default=None):
        value = self.get(key, default)
        if value is not default:
            del self._entries[key]
        return value

    def __contains__(self, key) -> bool:
        return self.get(key) is not None


# Probes started ahead of need, so that two interpreters, and the tree's
# summary, are worked on at the same time. Only this process's current run
# uses them: nothing is kept on disk.
_started_inventories = StartedAhead()  # python -> Started
_started_shapes = StartedAhead()  # python -> Popen


def start_inventory(python: str) -> None:
    """Start ``inspect_interpreter(python)``'s probe now; that call collects it later.

    Started before the fingerprint is known, its answer gives the fingerprint
    too, so a cold run starts one interpreter per environment, not two.
    """
    python = resolve_python(python)
    if python not in _started_inventories:
        _started_inventories[python] = Started.now(_start(python), python, "inventory probe")


def inspect_interpreter(python: str) -> Inventory:
    """The inventory of ``python``: version, sys.path, site dirs and every distribution."""
    python = resolve_python(python)
    started = _started_inventories.pop(python, None)
    if started is not None:
        data = started.collect()
        if not started.still_valid():
            # Something was installed or removed since it started: its answer may be stale.
            started = None
    if started is None:
        data = _answer(_start(python), python, "inventory probe")
    return Inventory.from_dict({"python": python, **data})


# --- fingerprint ----------------------------------------------------------------

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


def _watched_dirs(shape: dict) -> tuple[str, ...]:
    """Directories where installing or removing a distribution changes the mtime.

    Site dirs, the user site (even before it exists) and any sys.path entry that
    holds dist-info folders. Project source folders put on the path by editable
    installs are left out: their mtime changes with every file saved there.
    """
    watched = [*shape["site_dirs"], *([shape["user_site"]] if shape["user_site"] else [])]
    for entry in shape["sys_path"]:
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
    """Start the sys.path probes of several interpreters at once (each takes a process start).

    Not where an inventory probe started without a known shape will answer it.
    """
    for python in pythons:
        python = resolve_python(python)
        inventory = _started_inventories.get(python)
        if (python not in _started_shapes and _fresh_shape(_shape_key(python)) is None
                and (inventory is None or inventory.state is not None)):
            _started_shapes[python] = _start(python, "--shape-only")


def _shape_answer(python: str) -> dict:
    """The version, sys.path and site dirs of ``python``, from the cheapest probe at hand."""
    started = _started_shapes.pop(python, None)
    if started is not None:
        return _answer(started, python, "sys.path probe")
    inventory = _started_inventories.get(python)
    if inventory is not None and inventory.state is None:
        return inventory.collect()
    return _answer(_start(python, "--shape-only"), python, "sys.path probe")


def environment_fingerprint(python: str) -> str:
    """A short hash that changes when ``python`` or what it can import changes.

    Costs one interpreter start per process and interpreter (none when its
    inventory probe is already running), then only ``stat`` calls: the
    directory list is remembered, and re-read whenever one of the watched
    directories changed.
    """
    python = resolve_python(python)
    key = _shape_key(python)
    shape = _fresh_shape(key)
    if shape is None:
        answer = _shape_answer(python)
        watched = _watched_dirs(answer)
        shape = _PathShape(answer["sys_version"], watched, _stamp(watched))
        _shapes[key] = shape
    elif python in _started_shapes:  # started by a caller that did not know the answer was fresh
        _started_shapes.pop(python).communicate()
    payload = json.dumps([key, shape.version, shape.stamps])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
