"""Bulk answers from a remote root: one listing instead of a request per file.

``list_remote(root, folder)`` lists ``<root>/<folder>`` (S3: one ListObjectsV2
per 1,000 keys; a folder: one scan) into ``{relative name: ObjectInfo}``.

``listed(root, folder)`` is the same listing, made once per build and kept for
it, so that the completeness checks of a batch's tasks (``all_listed``) are
answered from memory. It may only say "done" for what the remote really has: a
task's output name must carry the content identity of what it is made from (so a
changed input is a name the listing lacks), files this process writes are added
as they land (``note_listed``), a forked worker process lists again (once), and
``fresh_listings()`` forgets every listing when a build starts and when it ends
(csci_utils.cli.run_build), so a later question lists again.

A "missing" answer is given once per asker from a listing: the scheduling pass
asks each task once, and all of them are answered by one listing. When the same
task asks again (luigi's check of a task's dependencies before it runs, after
another luigid worker made them), it gets a listing made after its last
"missing", so it never sees its own stale answer.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .integrity import ObjectInfo
from .roots import S3Root, join_relative, parse_root

Listing = dict[str, ObjectInfo]

# (root, folder) -> (the process that listed, when, the listing): a forked worker
# lists again, since files that its siblings made since the fork are not in its copy.
_LISTINGS: dict[tuple[str, str], tuple[int, float, Listing]] = {}
# (root, folder, asker) -> when the listing that last told that asker "missing" was made.
_MISSED: dict[tuple[str, str, str], float] = {}
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


def listed(root: str, folder: str, newer_than: float | None = None) -> Listing:
    """``list_remote(root, folder)`` (recursive), listed once per build (see the module);
    listed again if the kept one was made before the ``time.monotonic()`` ``newer_than``."""
    return _listing(root, folder, newer_than)[1]


def _listing(root: str, folder: str, newer_than: float | None) -> tuple[float, Listing]:
    """(when it was listed, the listing): see listed()."""
    key, pid = (root, folder), os.getpid()
    with _lock:
        lister, when, found = _LISTINGS.get(key, (None, 0.0, None))
    if lister != pid or (newer_than is not None and when <= newer_than):
        started = time.monotonic()
        found = list_remote(root, folder)
        with _lock:
            lister, when, kept = _LISTINGS.get(key, (None, 0.0, None))
            if lister == pid and when >= started:  # another thread listed meanwhile
                found = kept
            else:
                _LISTINGS[key] = (pid, started, found)
                when = started
    return when, found


def all_listed(root: str, folder: str, names, asker: str = "") -> bool:
    """Whether ``<root>/<folder>`` has every one of ``names`` (a completeness check by
    ``asker``, e.g. a task id): from this build's listing, but never from the one that
    already told ``asker`` "missing" (see the module).
    """
    names = list(names)
    with _lock:
        missed = _MISSED.get((root, folder, asker))
    when, found = _listing(root, folder, newer_than=missed)
    if all(name in found for name in names):
        return True
    with _lock:
        _MISSED[(root, folder, asker)] = when
    return False


def note_listed(root: str, folder: str, name: str, info: ObjectInfo | None = None) -> None:
    """This process just put ``<root>/<folder>/<name>``: a listing made before now has it."""
    with _lock:
        lister, _, found = _LISTINGS.get((root, folder), (None, 0.0, None))
        if lister == os.getpid():
            found[name] = info or ObjectInfo(size=0, version="")


def forget_listings() -> None:
    with _lock:
        _LISTINGS.clear()
        _MISSED.clear()


@contextmanager
def fresh_listings() -> Iterator[None]:
    """Listings made inside are forgotten on the way in and out (one build's lifetime)."""
    forget_listings()
    try:
        yield
    finally:
        forget_listings()
