"""Files in a local folder used as a remote root (the embedded, credential-free store)."""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable

from .errors import TransferError
from .integrity import READ_CHUNK, ObjectInfo

ByteCounter = Callable[[int], None]


def folder_stat(path: str) -> ObjectInfo | None:
    """Size and a version (inode, size, mtime) of a regular file; None when it is missing."""
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
    return ObjectInfo(
        size=status.st_size,
        version=f"{status.st_ino}-{status.st_size}-{status.st_mtime_ns}",
    )


def copy_into(source: str, expected: ObjectInfo, fileobj, on_bytes: ByteCounter) -> int:
    """Stream ``source`` into an open binary file in 1 MiB chunks; return the bytes copied.

    Fails when ``source`` was replaced or modified since ``expected`` was taken,
    the folder counterpart of S3's If-Match.
    """
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    copied = 0
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
        raise TransferError(
            f"cannot copy {source} ({error.strerror}): check the folder and its permissions"
        ) from error
    after = folder_stat(source)
    if after is None or after.version != expected.version:
        raise TransferError(
            f"{source} changed while it was being copied: nothing was kept, run again"
        )
    return copied
