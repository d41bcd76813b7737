"""What a store says about a file, and the check that a copy matches it."""

from __future__ import annotations

import hashlib
import os
import threading
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


def strongest_hash(expected: ObjectInfo) -> str | None:
    """The hash to check a copy with: the sha256 we stored, else a single-part MD5."""
    return next((name for name in ("sha256", "md5") if getattr(expected, name)), None)


def verify_copy(path: str, size: int, expected: ObjectInfo, url: str,
                digests: dict[str, str] | None = None) -> str:
    """Check a finished copy at ``path`` (``size`` bytes) against what the store reported.

    ``digests`` are hashes already computed while copying; a missing one is
    computed by reading the file. Returns which check passed (``"sha256"``,
    ``"md5"`` or ``"size"``); raises TransferError naming ``url`` on any mismatch.
    """
    if size != expected.size:
        raise TransferError(
            f"{url}: copied {size} bytes but the store reported {expected.size}; "
            "the file changed or the transfer was cut short, nothing was kept, run again"
        )
    name = strongest_hash(expected)
    if name is None:
        return "size"
    actual = (digests or {}).get(name) or file_digests(path, (name,))[name]
    if actual != getattr(expected, name):
        raise TransferError(
            f"{url}: the copy's {name} does not match the store's; the file changed or was "
            "corrupted in transit, nothing was kept, run again"
        )
    return name


class HashingWriter:
    """A binary file to download into that hashes what lands, while it lands.

    s3transfer writes ranged parts out of order (``seek`` + ``write``). Each
    write is recorded; a background thread reads the growing contiguous prefix
    back (from the page cache, so nothing piles up in memory) and hashes it.
    The digest is ready about when the last byte is, instead of costing a
    second pass over the file afterwards.
    """

    def __init__(self, path: str, algorithm: str) -> None:
        self.path, self.algorithm = path, algorithm
        self._file = open(path, "wb", buffering=0)  # unbuffered: the reader sees each write
        self._hasher = hashlib.new(algorithm)
        self._pending: dict[int, int] = {}  # start -> end of written ranges past the prefix
        self._prefix = 0  # bytes [0, prefix) are written
        self._hashed = 0
        self._finished = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._follow, name="hashing-writer", daemon=True)
        self._thread.start()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        start = self._file.tell()
        view = memoryview(data)
        while view:
            view = view[self._file.write(view):]
        end = start + len(data)
        with self._changed:
            if end > self._prefix:
                start = max(start, self._prefix)  # a retried part may rewrite hashed bytes
                self._pending[start] = max(end, self._pending.get(start, end))
                while self._prefix in self._pending:
                    self._prefix = max(self._prefix, self._pending.pop(self._prefix))
                self._changed.notify()
        return len(data)

    def _follow(self) -> None:
        try:
            with open(self.path, "rb", buffering=0) as reader:
                buffer = bytearray(READ_CHUNK)
                while True:
                    with self._changed:
                        while self._prefix == self._hashed and not self._finished:
                            self._changed.wait()
                        target, finished = self._prefix, self._finished
                    while self._hashed < target:
                        count = reader.readinto(
                            memoryview(buffer)[: min(READ_CHUNK, target - self._hashed)]
                        )
                        if not count:
                            raise OSError(f"{self.path} is shorter than what was written")
                        self._hasher.update(memoryview(buffer)[:count])
                        self._hashed += count
                    if finished and self._hashed == self._prefix:
                        return
        except BaseException as error:  # reported by close(); verify_copy then rereads the file
            self._failure = error

    def close(self) -> dict[str, str]:
        """Close the file; return ``{algorithm: digest}`` if every byte was hashed, else {}."""
        self._file.close()
        with self._changed:
            self._finished = True
            self._changed.notify()
        self._thread.join()
        size = os.path.getsize(self.path)
        if self._failure is not None or self._hashed != size:
            return {}
        return {self.algorithm: self._hasher.hexdigest()}
