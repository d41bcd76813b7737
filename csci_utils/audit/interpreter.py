"""Inspect an interpreter from the outside, through ``probe.py`` in a subprocess (without
``-I``: see there): which Python is MAIN, what it holds, and a cheap fingerprint."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from csci_utils.atomic import atomic_path

from . import background
from .errors import AuditError
from .models import Inventory, from_dict

PROBE_SOURCE = Path(__file__).with_name("probe.py").read_text()
PROBE_TIMEOUT_S = 120
# Variables that change what an interpreter puts on sys.path.
PATH_SHAPING_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE",
                    "PYTHONSAFEPATH")


def base_python() -> str:
    """The interpreter behind the current environment: where people ``pip install`` globally."""
    if sys.prefix == sys.base_prefix:
        return sys.executable
    base = getattr(sys, "_base_executable", None)
    if base and os.path.exists(base):
        return base
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3", "python"):
        candidate = Path(sys.base_prefix) / ("python.exe" if os.name == "nt" else f"bin/{name}")
        if candidate.exists():
            return str(candidate)
    raise AuditError(f"cannot find the base interpreter under {sys.base_prefix}; "
                     "pass --main-python PATH")


def find_executable(command: str) -> str | None:
    """The absolute path of ``command`` (a name on PATH, or a path) if it is an executable."""
    found = shutil.which(command) if os.sep not in command else command
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return os.path.abspath(found)
    return None


def resolve_python(python: str) -> str:
    """An absolute path to an existing interpreter, or an AuditError naming --main-python."""
    found = find_executable(python)
    if not found:
        raise AuditError(f"main python not found: {python!r} (--main-python); "
                         "pass the path of an existing interpreter")
    return found


def _run_probes(pythons: list[str]) -> dict[str, dict]:
    """Run the probe in each interpreter at the same time; their answers by interpreter.

    From a neutral working directory, which the probe also drops from sys.path first
    (``-P`` exists only from 3.11), so nothing of the audited project runs.
    """
    try:
        with background.started(*([python, "-c", PROBE_SOURCE] for python in pythons)) as started:
            return {python: _answer(process, python) for python, process in zip(pythons, started)}
    except OSError as error:
        raise AuditError(f"cannot run {error.filename or pythons[0]}: {error.strerror}; "
                         "pass a working interpreter") from None


def _answer(process, python: str) -> dict:
    try:
        return json.loads(background.answer(process, PROBE_TIMEOUT_S))
    except background.NoAnswer as problem:
        raise AuditError(f"{python} failed the inventory probe ({problem})") from None
    except ValueError:
        raise AuditError(f"{python} printed something other than the inventory probe's JSON; "
                         "is it a Python interpreter?") from None


# --- what an answer depends on ---------------------------------------------------------------

METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".pth")


def _metadata_stamp(folder: str) -> tuple | None:
    """The metadata entries of a folder that is not a site dir, with their mtimes.

    Such a folder (a project on sys.path, an egg-info beside its code) changes its
    own mtime whenever a file is saved there, or the audit creates ``.audit/`` in
    it: only what says what is installed counts.
    """
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries
                                if e.name.endswith(METADATA_SUFFIXES)))
    except OSError:
        return None


def _file_identity(path: str) -> tuple | None:
    """A file's (or folder's) inode, size, mtime and ctime: rewriting it changes the ctime,
    even when the mtime is put back (``cp -p``, ``touch -r``)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def interpreter_identity(python: str) -> tuple:
    """What the interpreter is: its path, its executable file and pyvenv.cfg, and the
    PYTHON* variables. Probe answers are kept under it, so a changed interpreter is never
    served the answer of the one it replaced."""
    executable = os.path.realpath(python)
    pyvenv_cfg = str(Path(python).parent.parent / "pyvenv.cfg")
    return (python, executable, _file_identity(executable), _file_identity(pyvenv_cfg),
            tuple(os.environ.get(name) for name in PATH_SHAPING_ENV))


def _stamps(answer: dict) -> tuple:
    """What installing or removing a distribution changes, for a probe's answer.

    Site dirs and the user site (even before it exists) by their stat; any other
    sys.path entry that holds dist-info/egg-info folders by those entries alone.
    """
    site_dirs = [*answer["site_dirs"], *([answer["user_site"]] if answer["user_site"] else [])]
    stamps = [(path, _file_identity(path)) for path in dict.fromkeys(site_dirs)]
    for entry in answer["sys_path"]:
        if entry not in site_dirs and os.path.isdir(entry):
            found = _metadata_stamp(entry)
            if found:
                stamps.append((entry, found))
    return tuple(stamps)


@dataclass
class Probed:
    """One probe's answer, under its interpreter's identity and the stamps it was taken at."""

    key: tuple
    stamps: tuple
    answer: dict


def _stored_path(cache_dir: Path, key: tuple) -> Path:
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"probe-{digest}.json"


def _read_stored(cache_dir: Path | None, key: tuple) -> Probed | None:
    """A stored answer for this interpreter whose stamps still hold, or None."""
    if cache_dir is None:
        return None
    try:
        stored = json.loads(_stored_path(cache_dir, key).read_text())
        stamps = _stamps(stored["answer"])
        if json.dumps([stored["key"], stored["stamps"]]) != json.dumps([key, stamps]):
            return None  # (JSON has no tuples: compared as JSON text)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Probed(key, stamps, stored["answer"])


def _store(cache_dir: Path | None, probed: Probed) -> None:
    if cache_dir is None:
        return
    try:
        with atomic_path(_stored_path(cache_dir, probed.key)) as temporary:
            Path(temporary).write_text(json.dumps(
                {"key": probed.key, "stamps": probed.stamps, "answer": probed.answer}))
    except OSError:
        pass  # only a later run's speed depends on it


# The answers this process has taken, by interpreter identity (so a fingerprint and
# the inventory come from one probe). An answer is used only while its stamps hold.
_answers: dict[tuple, Probed] = {}


def probe(*pythons: str, cache_dir: Path | None = None) -> list[Probed]:
    """Each interpreter's answer: kept, stored under ``cache_dir`` or taken now, all at once.

    With ``cache_dir``, an answer that ``inspect_interpreter`` stored there
    (``probe-<identity>.json``) is used while its stamps hold: a warm run starts
    no interpreter. Nothing here writes.
    """
    pythons = [resolve_python(python) for python in pythons]
    keys = {python: interpreter_identity(python) for python in pythons}
    stale = []
    for python, key in keys.items():
        known = _answers.get(key)
        if known is None or known.stamps != _stamps(known.answer):
            known = _read_stored(cache_dir, key)
        if known is None:
            stale.append(python)
        else:
            _answers[key] = known
    for python, answer in (_run_probes(stale) if stale else {}).items():
        _answers[keys[python]] = Probed(keys[python], _stamps(answer), answer)
    return [_answers[keys[python]] for python in pythons]


def environment_fingerprint(python: str, cache_dir: Path | None = None) -> str:
    """A short hash that changes when ``python`` or what it can import changes."""
    [probed] = probe(python, cache_dir=cache_dir)
    payload = json.dumps([probed.key, probed.answer["sys_version"], probed.stamps])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def inspect_interpreter(python: str, cache_dir: Path | None = None) -> Inventory:
    """The inventory of ``python``: version, sys.path, site dirs and every distribution.

    With ``cache_dir``, the answer is also stored there for later runs.
    """
    [probed] = probe(python, cache_dir=cache_dir)
    _store(cache_dir, probed)
    return from_dict(Inventory, {"python": resolve_python(python), **probed.answer})
