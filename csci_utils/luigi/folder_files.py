"""Files in a local folder used as a root: the embedded, credential-free store, and the
local cache.

A folder root never reads outside itself: a file whose real path (symbolic links
resolved, in the file name or in any folder above it) leaves the root is refused
with one line naming it, whether it stands for a remote file or a cached one.
"""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable

from ..write_errors import is_refused_write
from .errors import TransferError
from .integrity import READ_CHUNK, ObjectInfo
from .target import SuffixPreservingLocalTarget

ByteCounter = Callable[[int], None]


def check_inside(path: str, root: str | None) -> None:
    """Raise TransferError when the real path of ``path`` (which need not exist yet:
    links in the folders above it count) is not below ``root``."""
    if root is None or _plainly_below(path, root):
        return
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        raise TransferError(
            f"refusing {path}: it is a symbolic link (or below one) that leads outside "
            f"its root {root}; put the file itself in the folder"
        )


def _plainly_below(path: str, root: str) -> bool:
    """True when ``path`` is below ``root`` by name and none of the parts below ``root``
    is a link: then its real path is below the real root, whatever the root's own path
    holds, with one lstat per part below it instead of two realpath walks from ``/``
    (a batch checks each of its files several times)."""
    if os.pardir in os.fspath(path).split(os.sep):  # "link/.." is not where it reads
        return False
    relative = os.path.relpath(path, root)
    parts = relative.split(os.sep)
    if parts[0] == os.pardir:
        return False
    part = root
    for name in parts:
        part = os.path.join(part, name)
        if os.path.islink(part):
            return False  # maybe outside: the real paths decide
    return True


def folder_stat(path: str, root: str | None = None) -> ObjectInfo | None:
    """Size and a version (inode, size, mtime) of a regular file; None when it is missing.

    With ``root``, a file that really lies outside it is refused (see check_inside).
    """
    check_inside(path, root)
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise TransferError(
            f"cannot read {path} ({error.strerror}): check its permissions"
        ) from error
    if not stat_module.S_ISREG(status.st_mode):
        raise TransferError(f"{path} is not a regular file: point the root at a folder of files")
    return _info(status)


def _info(status: os.stat_result) -> ObjectInfo:
    return ObjectInfo(
        size=status.st_size, version=f"{status.st_ino}-{status.st_size}-{status.st_mtime_ns}"
    )


def copy_into(source: str, expected: ObjectInfo, fileobj, on_bytes: ByteCounter,
              root: str | None = None) -> int:
    """Stream ``source`` into an open binary file in 1 MiB chunks; return the bytes copied.

    Fails when ``source`` was replaced or modified since ``expected`` was taken,
    the folder counterpart of S3's If-Match.
    """
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    copied = 0
    check_inside(source, root)
    try:
        with open(source, "rb", buffering=0) as stream:
            while count := stream.readinto(buffer):
                fileobj.write(view[:count])
                copied += count
                on_bytes(count)
    except FileNotFoundError as error:
        raise TransferError(
            f"{source} disappeared during the copy: nothing was kept, run again"
        ) from error
    except OSError as error:
        if is_refused_write(error):  # the destination's fault: its atomic_path names it
            raise
        raise TransferError(
            f"cannot copy {source} ({error.strerror}): check the folder and its permissions"
        ) from error
    after = folder_stat(source, root)
    if after is None or after.version != expected.version:
        raise TransferError(
            f"{source} changed while it was being copied: nothing was kept, run again"
        )
    return copied


class FolderFileTarget(SuffixPreservingLocalTarget):
    """A file below a folder root (remote or local): ``exists()`` is True only for a
    regular file, and raises TransferError for one whose real path leaves ``root``."""

    def __init__(self, path: str, root: str, format=None) -> None:
        super().__init__(path, format=format)
        self.root = root

    def exists(self) -> bool:
        return folder_stat(self.path, self.root) is not None


def root_of(target) -> str | None:
    """The folder root a local target must stay inside (None: no such limit)."""
    return getattr(target, "root", None)


def list_folder(folder: str, root: str | None = None, recursive: bool = True) -> dict:
    """``{relative name: ObjectInfo}`` of the regular files below ``folder`` ('/'-joined names).

    One directory scan, the folder counterpart of an S3 listing; a missing folder
    lists nothing. A symbolic link is checked like ``folder_stat`` (one leading
    outside ``root`` raises TransferError); other non-files are left out. Versions
    are ``folder_stat``'s (inode, size, mtime).
    """
    check_inside(folder, root)
    found: dict[str, ObjectInfo] = {}
    pending = [("", folder)]
    while pending:
        prefix, path = pending.pop()
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            raise TransferError(
                f"cannot list {path} ({error.strerror}): check its permissions"
            ) from error
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    pending.append((f"{name}/", entry.path))
            else:
                if entry.is_symlink():
                    check_inside(entry.path, root)  # one leading outside the root is refused
                try:
                    status = entry.stat()
                except OSError:  # a dangling link: nothing there
                    continue
                if stat_module.S_ISREG(status.st_mode):
                    found[name] = _info(status)
    return found
