"""One line for a write the file system refused: the path and the real cause (no luigi).

A full disk, a read-only mount or a folder that cannot be made surfaces as an
OSError whose text ("[Errno 28] No space left on device: '...-luigi-tmp-...'")
names a temporary file, or, through luigi's ``makedirs`` (which swallows the
cause), as a later "No such file or directory". ``atomic_path`` and the
targets turn those into a ``WriteError`` instead::

    cannot write out/photo.png: no space left on the device; free some space or write elsewhere
"""

from __future__ import annotations

import errno
import os

# Errors only a write produces: a reader never sees them, so the write is the cause.
WRITE_ONLY_CAUSES = {
    errno.ENOSPC: ("no space left on the device", "free some space or write elsewhere"),
    errno.EDQUOT: ("the disk quota is used up", "free some space or write elsewhere"),
    errno.EFBIG: ("the file is larger than this process may write (ulimit -f)",
                  "raise the limit or write elsewhere"),
    errno.EROFS: ("the file system is read-only", "choose a writable folder"),
}
# Also these, when making a folder.
FOLDER_CAUSES = {
    **WRITE_ONLY_CAUSES,
    errno.EACCES: ("permission denied", "check the folder's permissions or choose another"),
    errno.EPERM: ("operation not permitted", "check the folder's permissions or choose another"),
    errno.EEXIST: ("a file of that name is in the way", "remove it or choose another folder"),
    errno.ENOTDIR: ("a file of that name is in the way", "remove it or choose another folder"),
}


class WriteError(OSError):
    """A write or a folder the file system refused; ``str()`` is the one line."""

    def __str__(self) -> str:
        return self.strerror


def is_refused_write(error: BaseException) -> bool:
    """True for an OSError that only a write can cause (disk full, read-only...)."""
    return (isinstance(error, OSError) and not isinstance(error, WriteError)
            and error.errno in WRITE_ONLY_CAUSES)


def refused(error: OSError, path: str, doing: str = "write",
            causes: dict = WRITE_ONLY_CAUSES) -> WriteError:
    """A WriteError saying that ``doing`` ``path`` failed, and why."""
    cause, remedy = causes.get(error.errno, (error.strerror or type(error).__name__,
                                             "check the folder"))
    return WriteError(error.errno, f"cannot {doing} {path}: {cause}; {remedy}", path)


def make_parent_folders(path: str) -> bool:
    """``os.makedirs`` of ``path``'s folder; a refusal is a WriteError naming the folder.

    True when this call made the folder itself (so nothing older is in it).
    """
    parent = os.path.dirname(os.path.normpath(os.fspath(path)))
    if not parent:
        return False
    try:
        try:
            os.mkdir(parent)  # a batch's usual case: one new folder below existing ones
            return True
        except FileExistsError:
            if os.path.isdir(parent):
                return False
            raise
        except FileNotFoundError:
            os.makedirs(parent, exist_ok=True)
            return True
    except OSError as error:
        where = error.filename if isinstance(error.filename, str) else parent
        raise refused(error, where, "create the folder", FOLDER_CAUSES) from error
