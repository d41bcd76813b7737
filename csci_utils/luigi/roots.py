"""Remote roots: where the shared copy of a file lives, written as a URL.

``s3://bucket/prefix`` is an S3 (or S3-compatible) store reached through
``luigi.contrib.s3``; a folder path or ``file://`` URL is the embedded default
that needs no credentials. Nothing here talks to a store: parsing and naming only.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import luigi.configuration
import luigi.format
from luigi.target import FileSystemTarget

from .errors import TransferError
from .folder_files import FolderFileTarget


@dataclass(frozen=True)
class S3Root:
    bucket: str
    prefix: str  # no leading or trailing slash; "" for the bucket's top level

    def url(self, relative_path: str) -> str:
        key = posixpath.join(self.prefix, relative_path) if self.prefix else relative_path
        return f"s3://{self.bucket}/{key}"


@dataclass(frozen=True)
class FolderRoot:
    path: str

    def url(self, relative_path: str) -> str:
        return os.path.join(self.path, *relative_path.split("/"))


def parse_root(root: str) -> S3Root | FolderRoot:
    """Read a remote root: ``s3://bucket[/prefix]``, ``file:///dir`` or a folder path."""
    text = os.fspath(root).strip()
    if not text:
        raise TransferError("the remote root is empty: give s3://bucket/prefix or a folder path")
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme == "s3":
        parts = urlsplit(text)
        if not parts.netloc:
            raise TransferError(f"remote root {text!r} names no bucket: write s3://bucket/prefix")
        return S3Root(bucket=parts.netloc, prefix=parts.path.strip("/"))
    if scheme == "file":
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise TransferError(
                f"remote root {text!r} names host {parts.netloc!r}: file:// URLs must be local, "
                "write file:///absolute/path"
            )
        return FolderRoot(path=unquote(parts.path))
    if scheme:
        raise TransferError(
            f"remote root {text!r} uses an unsupported scheme {scheme!r}: "
            "use s3://bucket/prefix, file:///path or a folder path"
        )
    return FolderRoot(path=text)


def join_relative(*parts: str) -> str:
    """Join path pieces under a root with ``/``; the last piece names the file.

    Refuses an empty file name, an absolute one and ``..``: a relative path
    must never climb out of its root.
    """
    last = str(parts[-1]) if parts else ""
    pieces = [piece for part in parts if part for piece in str(part).replace("\\", "/").split("/")]
    pieces = [piece for piece in pieces if piece not in ("", ".")]
    if not last.strip("/.") or last.startswith("/") or ".." in pieces:
        raise TransferError(
            f"relative path {'/'.join(str(p) for p in parts if p)!r} is empty, absolute or "
            "contains '..': give a file name below the root"
        )
    return "/".join(pieces)


def s3_endpoint() -> str:
    """The S3 endpoint: luigi.cfg ``[s3] endpoint_url``, else ``AWS_ENDPOINT_URL_S3``, else AWS."""
    configured = luigi.configuration.get_config().get("s3", "endpoint_url", "")
    return configured or os.environ.get("AWS_ENDPOINT_URL_S3", "") or "aws"


def root_key(root: str) -> str:
    """A folder name that stands for one remote root, for local caches of its files.

    Readable (``s3-bucket-prefix``, ``folder-name``) plus a short hash of the full
    root: the absolute folder, or the bucket, prefix *and* endpoint, so the same
    bucket name on another S3 server is another remote. Two roots never share a key.
    """
    parsed = parse_root(root)
    if isinstance(parsed, S3Root):
        identity, readable = (
            f"s3|{s3_endpoint()}|{parsed.bucket}|{parsed.prefix}",
            f"s3-{parsed.bucket}-{parsed.prefix}",
        )
    else:
        path = os.path.abspath(parsed.path)
        identity, readable = f"folder|{path}", f"folder-{os.path.basename(path)}"
    readable = "".join(char if char.isalnum() or char in "._" else "-" for char in readable).strip(
        "-."
    )
    return f"{readable[:40]}-{hashlib.sha256(identity.encode()).hexdigest()[:10]}"


def identity_key(identity: str) -> str:
    """A short folder name for a file's content identity (an ETag or a folder file's version)."""
    return hashlib.sha256(identity.strip('"').encode()).hexdigest()[:16]


def s3_file_target(url: str, client=None):
    try:
        from .s3_files import S3FileTarget  # boto3 is only needed for s3:// roots
    except ImportError as error:
        raise TransferError(
            f"{url} needs boto3: install this package with the [s3] extra"
        ) from error
    return S3FileTarget(url, client=client)


def remote_target(root: str, relative_path: str) -> FileSystemTarget:
    """The target for ``<root>/<relative_path>``: an S3 object or a file in a folder (bytes)."""
    parsed = parse_root(root)
    relative = join_relative(relative_path)
    if isinstance(parsed, S3Root):
        return s3_file_target(parsed.url(relative))
    return FolderFileTarget(parsed.url(relative), root=parsed.path, format=luigi.format.Nop)
