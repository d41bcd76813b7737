"""Atomic file writes whose temporary names keep the final file's suffixes (no luigi).

``photo.jpg`` is written as ``photo-luigi-tmp-PID-0123456789.jpg`` next to it, so a
library that picks the format from the name (Pillow, torch.save) still can, then
moved into place with one ``os.replace``::

    with atomic_path("out/photo.jpg") as temporary:
        image.save(temporary)

``csci_utils.luigi.target.SuffixPreservingLocalTarget`` writes through this;
``neural_style`` uses it directly, without a workflow engine.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .write_errors import is_refused_write, make_parent_folders, refused

TMP_MARKER = "-luigi-tmp-"
NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs)
# SystemRandom: processes forked by luigi's workers share the ``random`` state,
# which would give two concurrent writers the same temporary name.
_random = random.SystemRandom()


def split_suffixes(filename: str) -> tuple[str, str]:
    """Split a base name into (stem, all suffixes): ``a.tar.gz`` -> (``a``, ``.tar.gz``).

    Leading dots belong to the stem, so ``.env`` has no suffix and
    ``.config.json`` splits into (``.config``, ``.json``).
    """
    leading = len(filename) - len(filename.lstrip("."))
    dot = filename.find(".", leading)
    if dot <= leading or dot == len(filename) - 1:
        return filename, ""
    return filename[:dot], filename[dot:]


# Our temp names and nothing else: ``STEM-luigi-tmp-PID-NNNNNNNNNN[SUFFIXES]``.
_TMP_NAME = re.compile(rf".+{re.escape(TMP_MARKER)}(?P<pid>[0-9]+)-[0-9]{{10}}(\.[^/]*)?")
# Folders this process has swept: once each, so a batch of N writes is not O(N^2).
_swept: set[str] = set()


def unique_marker() -> str:
    """``-luigi-tmp-PID-NNNNNNNNNN``: the writer's pid tells a sweep whether it is stale."""
    return f"{TMP_MARKER}{os.getpid()}-{_random.randrange(10_000_000_000):010d}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OverflowError:  # not a pid at all
        return False
    return True


def sweep_stale_temps(directory: str) -> list[str]:
    """Remove our temp files in ``directory`` whose writer's pid is no longer alive.

    Only names matching our exact temp pattern are touched, only in ``directory``
    (not below it). A writer on another host that shares the folder cannot be
    seen; pids are only meaningful on one machine. Returns the removed paths.
    """
    removed = []
    try:
        entries = list(os.scandir(directory or "."))
    except OSError:
        return removed
    for entry in entries:
        match = _TMP_NAME.fullmatch(entry.name)
        if match and int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            remove_quietly(entry.path)
            removed.append(entry.path)
    return removed


def sweep_once(directory: str, made: bool = False) -> None:
    """``sweep_stale_temps(directory)`` the first time this process writes there, unless
    this process has just ``made`` the folder (nothing stale can be in it)."""
    key = os.path.abspath(directory or ".")
    if key not in _swept:
        _swept.add(key)
        if not made:
            sweep_stale_temps(directory)


def suffix_preserving_tmp_path(path: str) -> str:
    """A unique sibling of ``path`` that keeps every suffix: ``photo-luigi-tmp-N.jpg``.

    The name stays within NAME_MAX bytes: for a long name the stem is cut (on a
    UTF-8 character boundary), never the suffix, so the format is still readable
    from the temp name. The final name is not touched.
    """
    directory, filename = os.path.split(os.fspath(path).rstrip("/"))
    stem, suffixes = split_suffixes(filename)
    marker = unique_marker()
    room = NAME_MAX - len(marker.encode()) - len(suffixes.encode())
    if room < 1:  # suffixes too long to keep whole (``a.b.c...``): keep the last one only
        stem, suffixes = filename[: filename.rfind(".")], filename[filename.rfind("."):]
        room = NAME_MAX - len(marker.encode()) - len(suffixes.encode())
    return os.path.join(directory, f"{_cut_to_bytes(stem, room)}{marker}{suffixes}")


def _cut_to_bytes(text: str, size: int) -> str:
    """``text``'s longest prefix of at most ``size`` UTF-8 bytes (whole characters)."""
    return text.encode()[: max(size, 1)].decode(errors="ignore")


def remove_quietly(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


@contextmanager
def atomic_path(path, tmp_path_for: Callable[[str], str] = suffix_preserving_tmp_path
                ) -> Iterator[str]:
    """Yield a temporary path to write; move it to ``path`` on success.

    Parent directories are created first, and the first write into a folder in
    this process sweeps it of stale temp files (``sweep_stale_temps``). The
    temporary file is fsync'ed before
    the rename. On an exception the temporary file or directory is removed at
    once and the exception propagates. A file replaces any existing one
    atomically; an existing directory at ``path`` raises ``FileExistsError``
    (a directory cannot be replaced atomically). A folder that cannot be made,
    a full disk or a read-only file system raise ``WriteError``, one line naming
    ``path`` (not the temporary name) and the cause.
    """
    path = os.fspath(path)
    parent = os.path.dirname(path)
    sweep_once(parent, made=make_parent_folders(path))
    tmp_path = tmp_path_for(path)
    try:
        yield tmp_path
        if os.path.isdir(tmp_path) and os.path.isdir(path):
            raise FileExistsError(
                f"{path} already exists and is a directory; remove it to rebuild it"
            )
        if os.path.isfile(tmp_path):
            with open(tmp_path, "rb") as written:
                os.fsync(written.fileno())
        os.replace(tmp_path, path)
    except BaseException as error:
        remove_quietly(tmp_path)
        if is_refused_write(error):
            raise refused(error, path) from error
        raise
