"""What a store says about a file, and the check that a copy matches it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .errors import TransferError

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """Size and fingerprints of a stored file, as reported *before* a copy.

    ``version`` changes whenever the content is replaced (the S3 ETag, or a
    folder file's inode/size/mtime), so a copy can be pinned to it.
    """

    size: int
    version: str
    sha256: str | None = None  # stored in S3 object metadata by our uploads
    md5: str | None = None  # the ETag of a single-part S3 upload


def file_digests(path: str, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """Hex digests of a file, read in 1 MiB chunks (never whole into memory)."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            for hasher in hashers.values():
                hasher.update(view[:count])
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def md5_from_etag(etag: str | None) -> str | None:
    """The MD5 inside a single-part ETag; None for multipart (``"...-N"``) or odd ETags."""
    value = (etag or "").strip('"').lower()
    if len(value) == 32 and all(char in "0123456789abcdef" for char in value):
        return value
    return None


def verify_copy(path: str, size: int, expected: ObjectInfo, url: str) -> str:
    """Check a finished copy at ``path`` (``size`` bytes) against what the store reported.

    Returns which check passed (``"sha256"``, ``"md5"`` or ``"size"``); raises
    TransferError naming ``url`` on any mismatch.
    """
    if size != expected.size:
        raise TransferError(
            f"{url}: copied {size} bytes but the store reported {expected.size}; "
            "the file changed or the transfer was cut short, nothing was kept, run again"
        )
    wanted = [name for name in ("sha256", "md5") if getattr(expected, name)]
    if not wanted:
        return "size"
    name = wanted[0]  # sha256 when we stored one, else the single-part MD5
    actual = file_digests(path, (name,))[name]
    if actual != getattr(expected, name):
        raise TransferError(
            f"{url}: the copy's {name} does not match the store's; the file changed or was "
            "corrupted in transit, nothing was kept, run again"
        )
    return name
