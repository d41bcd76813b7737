"""What a store says about a file, and the check that a copy matches it."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import zlib
from dataclasses import dataclass

from .errors import TransferError

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """Size and fingerprints of a stored file, as reported *before* a copy.

    ``version`` changes whenever the content is replaced (the S3 ETag, or a
    folder file's inode/size/mtime), so a copy can be pinned to it; it is also
    the file's content identity (see ``identity``).
    """

    size: int
    version: str
    sha256: str | None = None  # stored in S3 object metadata by our uploads
    md5: str | None = None  # the ETag of a single-part S3 upload
    # S3's full-object checksums (HEAD with ChecksumMode=ENABLED), by algorithm:
    # (("crc32", "b7HQDQ=="), ...), base64 as S3 gives them. Composite (per-part) ones are left out.
    checksums: tuple[tuple[str, str], ...] = ()
    multipart_etag: str | None = None  # "<md5 of part md5s>-<parts>", from another tool's upload
    part_size: int | None = None  # the multipart layout, once asked for (HEAD PartNumber=1)

    @property
    def identity(self) -> str:
        """What names this content, from the HEAD or listing already made: the S3 ETag
        (quotes stripped; a listing gives it too) or a folder file's inode-size-mtime."""
        return self.version.strip('"')

    def expected(self, check: str) -> str | None:
        """The value a copy must hash to under ``check`` (a name of CHECKS), or None."""
        if check in ("sha256", "md5"):
            return getattr(self, check)
        if check == "multipart_etag":
            return self.multipart_etag.lower() if self.multipart_etag and self.part_size else None
        return dict(self.checksums).get(check.removeprefix("s3_"))


def md5_from_etag(etag: str | None) -> str | None:
    """The MD5 inside a single-part ETag; None for multipart (``"...-N"``) or odd ETags."""
    value = (etag or "").strip('"').lower()
    if len(value) == 32 and all(char in "0123456789abcdef" for char in value):
        return value
    return None


def multipart_etag(etag: str | None) -> str | None:
    """A multipart ETag ``"<32 hex>-<parts>"`` without quotes; None for anything else."""
    value = (etag or "").strip('"').lower()
    digest, dash, parts = value.partition("-")
    if dash and parts.isdigit() and int(parts) > 0 and md5_from_etag(digest):
        return value
    return None


def _crt_checksum(name: str):
    # awscrt (the [crt] extra of botocore) computes CRC32C and CRC64NVME in C; without
    # it those checksums are skipped and the next check in CHECKS is used.
    try:
        from awscrt import checksums
    except ImportError:
        return None
    return getattr(checksums, name, None)


class _HexHash:
    def __init__(self, algorithm: str) -> None:
        self._hash = hashlib.new(algorithm)

    def update(self, data) -> None:
        self._hash.update(data)

    def result(self) -> str:
        return self._hash.hexdigest()


class _Base64Hash(_HexHash):
    """S3's SHA256/SHA1 checksums: the digest, base64."""

    def result(self) -> str:
        return base64.b64encode(self._hash.digest()).decode()


class _Crc:
    """A running CRC, reported as S3 does: base64 of its big-endian bytes."""

    def __init__(self, function, width: int) -> None:
        self._function, self._width, self._value = function, width, 0

    def update(self, data) -> None:
        self._value = self._function(data, self._value)

    def result(self) -> str:
        return base64.b64encode(self._value.to_bytes(self._width, "big")).decode()


class _MultipartEtag:
    """The ETag S3 gives a multipart upload: md5 of the parts' md5s, ``-<parts>``.

    ``part_size`` is the layout's first part size (every part but the last has
    it, as with the aws CLI, boto3 and the console).
    """

    def __init__(self, part_size: int) -> None:
        self._part_size, self._in_part = part_size, 0
        self._part, self._digests = hashlib.md5(), []

    def update(self, data) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self._part_size - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self._part_size:
                self._digests.append(self._part.digest())
                self._part, self._in_part = hashlib.md5(), 0

    def result(self) -> str:
        digests = self._digests + ([self._part.digest()] if self._in_part else [])
        return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


# Strongest first. sha256/md5 are hex; s3_* are S3's full-object checksums (base64).
CHECKS = (
    "sha256",
    "s3_sha256",
    "s3_sha1",
    "md5",
    "s3_crc64nvme",
    "s3_crc32c",
    "s3_crc32",
    "multipart_etag",
)


def new_hasher(check: str, expected: ObjectInfo | None = None):
    """An object with ``update(bytes)`` and ``result() -> str`` for ``check``; None when it
    cannot be computed here (CRC32C / CRC64NVME without awscrt)."""
    if check in ("sha256", "md5", "sha1"):
        return _HexHash(check)
    if check in ("s3_sha256", "s3_sha1"):
        return _Base64Hash(check.removeprefix("s3_"))
    if check == "s3_crc32":
        return _Crc(zlib.crc32, 4)
    if check in ("s3_crc32c", "s3_crc64nvme"):
        function = _crt_checksum(check.removeprefix("s3_"))
        return None if function is None else _Crc(function, 8 if check.endswith("64nvme") else 4)
    if check == "multipart_etag" and expected is not None and expected.part_size:
        return _MultipartEtag(expected.part_size)
    raise ValueError(f"unknown check {check!r}")


def file_digests(path: str, algorithms: tuple[str, ...] = ("sha256",),
                 expected: ObjectInfo | None = None) -> dict[str, str]:
    """Digests of a file under each check (hex for sha256/md5), read in 1 MiB chunks."""
    hashers = {name: new_hasher(name, expected) for name in algorithms}
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            for hasher in hashers.values():
                hasher.update(view[:count])
    return {name: hasher.result() for name, hasher in hashers.items()}


def strongest_hash(expected: ObjectInfo) -> str | None:
    """The check to verify a copy with: the strongest that the store gave and this
    machine can compute (see CHECKS); None leaves only the size."""
    for name in CHECKS:
        if expected.expected(name) and new_hasher(name, expected) is not None:
            return name
    return None


def verify_copy(path: str, size: int, expected: ObjectInfo, url: str,
                digests: dict[str, str] | None = None) -> str:
    """Check a finished copy at ``path`` (``size`` bytes) against what the store reported.

    ``digests`` are hashes already computed while copying; a missing one is
    computed by reading the file. Returns which check passed (a name of
    CHECKS, or ``"size"``); raises TransferError naming ``url`` on any mismatch.
    """
    if size != expected.size:
        raise TransferError(
            f"{url}: copied {size} bytes but the store reported {expected.size}; "
            "the file changed or the transfer was cut short, nothing was kept, run again"
        )
    name = strongest_hash(expected)
    if name is None:
        return "size"
    actual = (digests or {}).get(name) or file_digests(path, (name,), expected)[name]
    if actual != expected.expected(name):
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

    def __init__(self, path: str, algorithm: str, expected: ObjectInfo | None = None) -> None:
        self.path, self.algorithm = path, algorithm
        self._hasher = new_hasher(algorithm, expected)
        self._file = open(path, "wb", buffering=0)  # unbuffered: the reader sees each write
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
        return {self.algorithm: self._hasher.result()}
