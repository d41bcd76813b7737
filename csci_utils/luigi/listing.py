"""Bulk answers from a remote root: one listing instead of a request per file.

``list_remote(root, folder)`` lists ``<root>/<folder>`` (S3: one ListObjectsV2
per 1,000 keys; a folder: one scan) into ``{relative name: ObjectInfo}``.

``listed(root, folder)`` is the same listing, made once per build and kept for
it, so that the completeness checks of a batch's tasks are answered from memory.
It may only say "done" for what the remote really has: a task's output name
must carry the content identity of what it is made from (so a changed input is
a name the listing lacks), files this process writes are added as they land
(``note_listed``), a forked worker process lists again (once), and ``fresh_listings()`` forgets every listing when a build
starts and when it ends (csci_utils.cli.run_build), so a later question lists again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .integrity import ObjectInfo
from .roots import S3Root, join_relative, parse_root

Listing = dict[str, ObjectInfo]

# (root, folder) -> (the process that listed, the listing): a forked worker lists
# again, since files that its siblings made since the fork are not in its copy.
_LISTINGS: dict[tuple[str, str], tuple[int, Listing]] = {}
_lock = threading.Lock()


def list_remote(root: str, folder: str, recursive: bool = True) -> Listing:
    """``{name relative to <root>/<folder>: ObjectInfo}`` of the files below it.

    Raises TransferError (one line) for a missing bucket, an unreachable store
    or a link that leaves a folder root; a missing folder lists nothing.
    """
    parsed = parse_root(root)
    relative = join_relative(folder)
    if isinstance(parsed, S3Root):
        from .s3_files import list_prefix  # boto3 only for s3:// roots

        return list_prefix(parsed.url(relative), recursive=recursive)
    from .folder_files import list_folder

    return list_folder(parsed.url(relative), root=parsed.path, recursive=recursive)


def listed(root: str, folder: str) -> Listing:
    """``list_remote(root, folder)`` (recursive), listed once per build (see the module)."""
    key, pid = (root, folder), os.getpid()
    with _lock:
        lister, found = _LISTINGS.get(key, (None, None))
    if lister != pid:
        found = list_remote(root, folder)
        with _lock:
            lister, kept = _LISTINGS.get(key, (None, None))
            if lister == pid:  # another thread of this process listed meanwhile
                found = kept
            else:
                _LISTINGS[key] = (pid, found)
    return found


def note_listed(root: str, folder: str, name: str, info: ObjectInfo | None = None) -> None:
    """This process just put ``<root>/<folder>/<name>``: a listing made before now has it."""
    with _lock:
        lister, found = _LISTINGS.get((root, folder), (None, None))
        if lister == os.getpid():
            found[name] = info or ObjectInfo(size=0, version="")


def forget_listings() -> None:
    with _lock:
        _LISTINGS.clear()


@contextmanager
def fresh_listings() -> Iterator[None]:
    """Listings made inside are forgotten on the way in and out (one build's lifetime)."""
    forget_listings()
    try:
        yield
    finally:
        forget_listings()
