"""The one way a file moves between a remote root and the local disk.

``download`` and ``upload`` serve every remote<->local copy, whatever the
root: an S3 object goes through boto3's transfer manager (streamed, multipart,
concurrent), a folder file through a chunked copy. Either way the data lands
through an atomic target's ``temporary_path()`` (or S3's own all-or-nothing
upload), is checked against what the store reported, and a mismatch leaves
no file at the final path.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from luigi.local_target import LocalTarget
from luigi.target import FileSystemTarget

from .errors import TransferError
from .folder_files import copy_into, folder_stat, root_of
from .integrity import HashingWriter, ObjectInfo, file_digests, strongest_hash, verify_copy
from .progress import ByteTally, ProgressCallback
from .roots import s3_file_target
from .target import BaseAtomicProviderLocalTarget, SuffixPreservingLocalTarget

if TYPE_CHECKING:
    from luigi.contrib.s3 import S3Target


def _is_s3(target: FileSystemTarget) -> bool:
    # luigi.contrib.s3 imports boto3 (a quarter of a second), which code that
    # only wants a local target must not pay for; until that module is
    # imported, no S3Target can exist.
    s3 = sys.modules.get("luigi.contrib.s3")
    return s3 is not None and isinstance(target, s3.S3Target)


def _as_s3_file(target: S3Target):
    if hasattr(target, "download_into"):  # already an S3FileTarget
        return target
    return s3_file_target(target.path, client=target.fs)


def _as_atomic_local(target: FileSystemTarget) -> BaseAtomicProviderLocalTarget:
    if isinstance(target, BaseAtomicProviderLocalTarget):
        return target
    if isinstance(target, LocalTarget):
        return SuffixPreservingLocalTarget(target.path, format=target.format)
    raise TransferError(
        f"{target.path}: expected an S3 or a local file target, got {type(target).__name__}"
    )


def remote_stat(remote: FileSystemTarget) -> ObjectInfo | None:
    """What the remote root says about a file (None when it is missing)."""
    if _is_s3(remote):
        return _as_s3_file(remote).stat()
    return folder_stat(_as_atomic_local(remote).path, root_of(remote))


# Answers a planner looked up for this process's batch (``resolve``): the
# ExternalTask checks and the download reuse them instead of asking again.
# Safe to reuse: a download is pinned to the ETag (If-Match) and verified, so
# a file replaced since fails cleanly instead of being copied stale.
_RESOLVED: dict[str, ObjectInfo] = {}


def resolve(remote: FileSystemTarget) -> ObjectInfo | None:
    """``remote_stat``, remembered for the rest of this process (inputs of a batch only)."""
    info = remote_stat(remote)
    if info is not None:
        _RESOLVED[remote.path] = info
    return info


def remember(path: str, info: ObjectInfo) -> None:
    """What a listing said about ``path``: ``resolve``'s answer without a request of its own."""
    _RESOLVED[path] = info


def resolved(path: str) -> ObjectInfo | None:
    """The answer ``resolve`` got for ``path`` in this process, if any."""
    return _RESOLVED.get(path)


def download(remote: FileSystemTarget, local: FileSystemTarget,
             progress: ProgressCallback | None = None, identity: str | None = None) -> str:
    """Copy ``remote`` to ``local`` atomically and verified; return the check used.

    ``progress(done, total)`` is called from the copying threads. With
    ``identity``, the remote file must still have it (``ObjectInfo.identity``).
    An S3 object below the multipart threshold is one GET, verified from that
    GET's own headers: no HEAD first. A larger one not looked up yet costs the
    same requests as before (that GET, closed after its headers, in place of a
    HEAD), then its parts in parallel.
    """
    local = _as_atomic_local(local)
    info = resolved(remote.path)
    if info is not None:
        _check_identity(remote, info, identity)
    if _is_s3(remote) and (info is None or info.size < _as_s3_file(remote).SINGLE_GET_LIMIT):
        s3_file = _as_s3_file(remote)
        info, body = s3_file.get(identity or (info.version if info is not None else None))
        try:
            if info.size < s3_file.SINGLE_GET_LIMIT:  # the whole object, in this one GET
                with local.temporary_path() as temporary:
                    with open(temporary, "wb") as fileobj:
                        digests = s3_file.read_body(fileobj, body, info, progress)
                    return verify_copy(temporary, os.path.getsize(temporary), info, remote.path,
                                       digests)
        finally:
            body.close()  # a large object: its parts in parallel below, pinned to its ETag
    if info is None:
        info = remote_stat(remote)
        if info is None:
            raise TransferError(
                f"{remote.path} does not exist: upload it first or fix the remote root"
            )
        _check_identity(remote, info, identity)
    tally = ByteTally(info.size, progress)
    with local.temporary_path() as temporary:
        digests: dict[str, str] = {}
        if _is_s3(remote):
            info = _as_s3_file(remote).with_part_layout(info)
            digests = _download_s3(_as_s3_file(remote), info, temporary, tally)
        else:
            with open(temporary, "wb") as fileobj:
                copy_into(remote.path, info, fileobj, tally, root_of(remote))
        return verify_copy(temporary, os.path.getsize(temporary), info, remote.path, digests)


def _check_identity(remote: FileSystemTarget, info: ObjectInfo, identity: str | None) -> None:
    if identity is not None and info.identity != identity.strip('"'):
        raise TransferError(
            f"{remote.path} was replaced after the run was planned (its identity changed): "
            "nothing was kept, run again"
        )


def _download_s3(s3_file, info: ObjectInfo, temporary: str, tally: ByteTally) -> dict[str, str]:
    algorithm = strongest_hash(info)
    if algorithm is None:
        with open(temporary, "wb") as fileobj:
            s3_file.download_into(fileobj, info, tally)
        return {}
    writer = HashingWriter(temporary, algorithm, info)  # hashes while the parts land
    try:
        s3_file.download_into(writer, info, tally)
    finally:
        digests = writer.close()
    return digests


def upload(local: FileSystemTarget, remote: FileSystemTarget,
           progress: ProgressCallback | None = None) -> str:
    """Copy ``local`` to ``remote``; the remote file appears whole and verified, or not at all."""
    source, root = local.path, root_of(local)
    info = folder_stat(source, root)
    if info is None:
        raise TransferError(f"{source} does not exist: create it first or fix the local root")
    tally = ByteTally(info.size, progress)
    if not _is_s3(remote):
        with _as_atomic_local(remote).temporary_path() as temporary:
            with open(temporary, "wb") as fileobj:
                copy_into(source, info, fileobj, tally, root)
            return verify_copy(temporary, os.path.getsize(temporary), info, remote.path)

    s3_file = _as_s3_file(remote)
    if info.size < s3_file.SINGLE_PUT_LIMIT:
        return _put_small(s3_file, source, root, info, tally)
    sha256 = file_digests(source, ("sha256",))["sha256"]
    s3_file.upload_from(source, sha256, tally)
    # S3 already checked each part's checksum; this checks the object as a whole.
    try:
        stored = s3_file.stat()
        _check_unchanged(source, root, info)
        if stored is None or stored.size != info.size or stored.sha256 != sha256:
            raise TransferError(
                f"{remote.path} does not match {source} after the upload (size or sha256): "
                "nothing was kept, run again"
            )
    except TransferError:
        s3_file.delete_quietly()
        raise
    return "sha256"


def _put_small(s3_file, source: str, root: str | None, info: ObjectInfo, tally) -> str:
    """One read, one PUT, checked by the PUT's answer: no HEAD afterwards (a result is a few
    hundred KB, and that HEAD was one more request per result)."""
    with open(source, "rb") as stream:
        data = stream.read()
    check = s3_file.put_verified(data, tally)
    try:
        _check_unchanged(source, root, info)  # what was read and sent is the file as stat'ed
    except TransferError:
        s3_file.delete_quietly()
        raise
    return check


def _check_unchanged(source: str, root: str | None, info: ObjectInfo) -> None:
    after = folder_stat(source, root)
    if after is None or after.version != info.version:
        raise TransferError(
            f"{source} changed while it was being uploaded: nothing was kept, run again"
        )
