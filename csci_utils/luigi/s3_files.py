"""S3 objects as luigi targets: one HEAD to check, boto3's transfer manager to copy.

Everything S3-specific lives here: the target class, the streaming/multipart
copies, and turning botocore's exceptions into one-line TransferErrors. The
boto3 client is the one ``luigi.contrib.s3.S3Client`` builds, so luigi.cfg
``[s3]`` (``endpoint_url``, ...) and ``AWS_ENDPOINT_URL_S3`` both apply.

A silent endpoint (it accepts connections and never answers) costs at most
``S3Timeouts.bound()`` seconds per request (48 s with the defaults: 3 attempts
of 5 s to connect + 10 s to read, plus backoff), and once one request to an
endpoint has timed out, every later request of the process to it fails at once
with the same line, so a whole build gives up within that bound.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import replace

import luigi
import luigi.format
from boto3.s3.transfer import ProgressCallbackInvoker, TransferConfig, create_transfer_manager
from botocore import exceptions as bx
from botocore.config import Config as BotocoreConfig
from luigi.contrib.s3 import S3Client, S3Target
from s3transfer.exceptions import (
    RetriesExceededError,
    S3DownloadFailedError,
    S3UploadFailedError,
    S3ValidationError,
)
from s3transfer.subscribers import BaseSubscriber

from .errors import TransferError
from .integrity import (
    READ_CHUNK,
    ObjectInfo,
    md5_from_etag,
    multipart_etag,
    new_hasher,
    strongest_hash,
)
from .progress import ByteTally, ProgressCallback

MiB = 1024 * 1024
# The same part size, threshold and concurrency as `aws s3 cp`, so benchmarks compare engines.
MULTIPART_THRESHOLD = 8 * MiB
MULTIPART_CHUNKSIZE = 8 * MiB
MAX_CONCURRENCY = 10
# Downloaded chunks (256 KiB each) waiting to be written; boto3 allows 100 (25 MiB).
MAX_IO_QUEUE = 16
SHA256_METADATA_KEY = "sha256"

_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
_CREDENTIAL_CODES = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "Forbidden",
    "InvalidToken", "ExpiredToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed",
}
_CHANGED_CODES = {"PreconditionFailed", "412"}

ByteCounter = Callable[[int], None]
# (endpoint, bucket) pairs a HEAD has found in this process: see _require_bucket.
_BUCKETS_SEEN: set[tuple[str, str]] = set()

# Retry backoff of botocore's "standard" mode: at most 1 s, then 2 s, ... (jittered).
_BACKOFF_BOUND = {1: 0, 2: 1, 3: 3, 4: 7, 5: 15}


def _in_s3_section(name: str) -> dict:
    return {"section": "s3", "name": name}


class S3Timeouts(luigi.Config):
    """luigi.cfg ``[s3] connect_timeout / read_timeout / max_attempts``.

    botocore's own defaults (60 s read, retried) leave a silent endpoint silent
    for about six minutes; these bound every request (see ``bound()``).
    """

    connect_timeout = luigi.FloatParameter(
        default=5.0, config_path=_in_s3_section("connect_timeout"),
        description="seconds to wait for a TCP connection to the endpoint")
    read_timeout = luigi.FloatParameter(
        default=10.0, config_path=_in_s3_section("read_timeout"),
        description="seconds to wait for the endpoint to send anything")
    max_attempts = luigi.IntParameter(
        default=3, config_path=_in_s3_section("max_attempts"),
        description="attempts per request, the first included (1-5)")

    OPTIONS = ("connect_timeout", "read_timeout", "max_attempts")

    def attempts(self) -> int:
        return min(max(int(self.max_attempts), 1), 5)

    def bound(self) -> float:
        """Seconds after which one request to a silent endpoint has given up."""
        attempts = self.attempts()
        return attempts * (self.connect_timeout + self.read_timeout) + _BACKOFF_BOUND[attempts]

    def botocore_config(self) -> BotocoreConfig:
        return BotocoreConfig(
            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.attempts()},
        )


# boto3 S3 resources made in this process, by what they were made from (see TimedS3Client.s3).
_resources: dict[tuple, object] = {}
_resources_lock = threading.Lock()


class TimedS3Client(S3Client):
    """luigi's S3Client with S3Timeouts applied (and their keys kept away from boto3).

    Every target of the same settings shares one boto3 resource per process: making
    one costs ~55 ms, and a batch of 20 images on S3 made 103 of them (5.7 s of a
    14.7 s run). The key is the process (clients do not survive a fork), the
    luigi.cfg ``[s3]`` options and timeouts, and the ``AWS_*`` environment that
    boto3 reads (endpoint, credentials, profile, region).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for option in S3Timeouts.OPTIONS:
            self._options.pop(option, None)
        self._options.setdefault("config", S3Timeouts().botocore_config())

    def _settings_key(self) -> tuple:
        options = {name: getattr(value, "_user_provided_options", value)
                   for name, value in self._options.items()}
        aws = sorted((name, value) for name, value in os.environ.items()
                     if name.startswith("AWS_"))
        settings = repr((sorted(options.items(), key=repr), aws))
        return os.getpid(), hashlib.sha256(settings.encode()).hexdigest()  # no secret kept

    @property
    def s3(self):
        if self._s3 is None and self._options.get("aws_role_arn"):
            # luigi assumes the role while making the resource: temporary credentials,
            # which a process-wide resource would keep past their expiry.
            self._s3 = S3Client.s3.fget(self)
        if self._s3 is None:
            key = self._settings_key()
            with _resources_lock:
                if key not in _resources:
                    _resources[key] = S3Client.s3.fget(self)
                self._s3 = _resources[key]
        return self._s3

    @s3.setter
    def s3(self, value) -> None:
        self._s3 = value


# Endpoints that timed out in this process, with the line that said so.
_silent_endpoints: dict[str, str] = {}
_silent_lock = threading.Lock()


def _timed_out(error: BaseException) -> bool:
    return isinstance(error, (bx.ConnectTimeoutError, bx.ReadTimeoutError, TimeoutError))


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", "") or "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code or (str(status) if status else "")


def describe_s3_error(error: BaseException, url: str, endpoint: str) -> TransferError:
    """Turn a botocore/s3transfer exception into one line naming ``url`` and what to do.

    Only codes and exception names are quoted: request headers, and with them
    credentials, never reach the message.
    """
    if isinstance(error, RetriesExceededError) and error.last_exception is not None:
        error = error.last_exception
    bucket = url[len("s3://"):].split("/", 1)[0]
    if _timed_out(error):
        settings = S3Timeouts()
        return TransferError(
            f"the S3 endpoint {endpoint} did not answer for {url} ({type(error).__name__} after "
            f"{settings.attempts()} attempts of {settings.connect_timeout:g} s to connect and "
            f"{settings.read_timeout:g} s to read): check the server, or raise [s3] read_timeout"
        )
    if isinstance(error, bx.FlexibleChecksumError):  # botocore's own check of a GET's body
        return TransferError(
            f"{url}: the copy's checksum does not match the store's; the file changed or was "
            "corrupted in transit, nothing was kept, run again"
        )
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return TransferError(
            f"no AWS credentials found for {url}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        )
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError,
                          bx.ResponseStreamingError, bx.IncompleteReadError, ConnectionError)):
        return TransferError(
            f"cannot reach the S3 endpoint {endpoint} for {url} ({type(error).__name__}): "
            "start the server or fix [s3] endpoint_url / AWS_ENDPOINT_URL_S3, then run again"
        )
    code = _error_code(error)
    if code == "NoSuchBucket":
        return TransferError(
            f"bucket {bucket!r} does not exist at {endpoint} ({url}): create it or fix the "
            "remote root"
        )
    if code in _MISSING_KEY_CODES:
        return TransferError(f"{url} does not exist: upload it first or fix the remote root")
    if code in _CREDENTIAL_CODES:
        return TransferError(
            f"S3 at {endpoint} refused the credentials for {url} ({code}): check "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the bucket policy"
        )
    if code in _CHANGED_CODES:
        return TransferError(
            f"{url} changed while it was being copied ({code}): nothing was kept, run again"
        )
    detail = code or type(error).__name__
    return TransferError(
        f"S3 request for {url} at {endpoint} failed ({detail}): check the store and run again"
    )


def transfer_config() -> TransferConfig:
    return TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNKSIZE,
        max_concurrency=MAX_CONCURRENCY,
        max_io_queue=MAX_IO_QUEUE,
        # botocore already retries each request (S3Timeouts); s3transfer's own 5
        # attempts on top would multiply a silent endpoint's wait.
        num_download_attempts=2,
        # The classic engine: the CRT one, when installed, ignores our part settings.
        preferred_transfer_client="classic",
    )


class S3FileTarget(S3Target):
    """An ``S3Target`` for one object (bytes, ``format=Nop``).

    ``exists()`` is one HEAD request (luigi's also lists the "directory"), and
    it raises TransferError for an unreachable endpoint, a missing bucket or
    refused credentials instead of a botocore traceback.
    """

    # Smaller files go up in one PUT (put_verified) and come down in one GET (get, read_body).
    SINGLE_PUT_LIMIT = SINGLE_GET_LIMIT = MULTIPART_THRESHOLD

    def __init__(self, path: str, client: S3Client | None = None) -> None:
        super().__init__(path, format=luigi.format.Nop, client=client or TimedS3Client())
        self.bucket, self.key = S3Client._path_to_bucket_and_key(path)

    @property
    def boto_client(self):
        try:
            return self.fs.s3.meta.client
        except Exception as error:  # bad [s3] options: boto3 raises TypeError/ValueError
            raise TransferError(
                f"cannot create an S3 client for {self.path} ({type(error).__name__}): "
                "check the [s3] section of luigi.cfg"
            ) from error

    @property
    def endpoint(self) -> str:
        return self.boto_client.meta.endpoint_url

    def error(self, error: BaseException) -> TransferError:
        described = describe_s3_error(error, self.path, self.endpoint)
        if _timed_out(error.last_exception if isinstance(error, RetriesExceededError) else error):
            with _silent_lock:
                _silent_endpoints.setdefault(self.endpoint, str(described))
        return described

    def _refuse_silent_endpoint(self) -> None:
        """Fail at once where this process already waited a full timeout for nothing."""
        line = _silent_endpoints.get(self.endpoint)
        if line is not None:
            raise TransferError(f"{self.path}: not tried, {line}")

    def exists(self) -> bool:
        return self.stat() is not None

    def stat(self) -> ObjectInfo | None:
        """Size, ETag, stored sha256 and S3's full-object checksums; None when the key is missing.

        One HEAD (with ChecksumMode=ENABLED, which costs no extra request).
        """
        client = self.boto_client
        self._refuse_silent_endpoint()
        try:
            head = client.head_object(Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED")
        except bx.ClientError as error:
            if _error_code(error) not in _MISSING_KEY_CODES:
                raise self.error(error) from error
            self._require_bucket(client)
            return None
        except bx.BotoCoreError as error:
            raise self.error(error) from error
        _BUCKETS_SEEN.add((client.meta.endpoint_url, self.bucket))
        return object_info(head)

    def get(self, etag: str | None = None):
        """Start one GET (no HEAD first); return what its headers say and its unread body.

        The headers give the size, ETag, our sha256 and S3's checksums
        (``object_info``), so a caller can check the copy against them. With
        ``etag`` the GET is pinned to it (If-Match): an object replaced since it
        was looked up fails instead of being copied.
        """
        client = self.boto_client
        self._refuse_silent_endpoint()
        pinned = {"IfMatch": etag if etag.startswith('"') else f'"{etag}"'} if etag else {}
        try:
            answer = client.get_object(Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED",
                                       **pinned)
        except bx.ClientError as error:
            code = _error_code(error)
            if code in _CHANGED_CODES and etag:
                raise TransferError(
                    f"{self.path} was replaced after the run was planned (its identity "
                    "changed): nothing was kept, run again"
                ) from error
            if code in _MISSING_KEY_CODES:
                self._require_bucket(client)
            raise self.error(error) from error
        except (bx.BotoCoreError, ConnectionError) as error:
            raise self.error(error) from error
        _BUCKETS_SEEN.add((client.meta.endpoint_url, self.bucket))
        try:
            return self.with_part_layout(object_info(answer)), answer["Body"]
        except BaseException:
            answer["Body"].close()
            raise

    def read_body(self, fileobj, body, info: ObjectInfo,
                  progress: ProgressCallback | None) -> dict[str, str]:
        """Stream a GET's body into an open binary file, hashed as it arrives with the
        strongest check ``info`` allows; return ``{check: digest}`` for ``verify_copy``.
        The caller closes the body."""
        check = strongest_hash(info)
        hasher = new_hasher(check, info) if check else None
        tally = ByteTally(info.size, progress)
        try:
            for chunk in body.iter_chunks(READ_CHUNK):
                fileobj.write(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                tally(len(chunk))
        except (bx.BotoCoreError, ConnectionError) as error:
            raise self.error(error) from error
        return {check: hasher.result()} if hasher is not None else {}

    def with_part_layout(self, info: ObjectInfo) -> ObjectInfo:
        """``info`` plus the multipart part size, when only the multipart ETag can check it.

        One extra HEAD (PartNumber=1), made only at download time and only for a
        multipart object without our sha256 or a full-object checksum.
        """
        if info.multipart_etag is None or strongest_hash(info) is not None:
            return info
        try:
            # No If-Match: moto compares it with the part's ETag. The GETs are pinned.
            head = self.boto_client.head_object(Bucket=self.bucket, Key=self.key, PartNumber=1)
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self.error(error) from error
        parts = int(head.get("PartsCount") or 0)
        if parts != int(info.multipart_etag.rsplit("-", 1)[1]):
            return info  # a layout S3 does not describe: size only
        return replace(info, part_size=int(head["ContentLength"]))

    def _require_bucket(self, client) -> None:
        # A HEAD on a key of a missing bucket is a bare 404 too: ask the bucket,
        # once per process (a batch's missing results would each ask again).
        known = (client.meta.endpoint_url, self.bucket)
        if known in _BUCKETS_SEEN:
            return
        try:
            client.head_bucket(Bucket=self.bucket)
            _BUCKETS_SEEN.add(known)
        except bx.ClientError as error:
            if _error_code(error) in _MISSING_KEY_CODES | {"NoSuchBucket"}:
                raise describe_s3_error(
                    _with_code(error, "NoSuchBucket"), self.path, self.endpoint
                ) from error
            raise self.error(error) from error
        except bx.BotoCoreError as error:
            raise self.error(error) from error

    def download_into(self, fileobj, expected: ObjectInfo, on_bytes: ByteCounter) -> None:
        """Stream the object into an open binary file, pinned to the ETag that was checked.

        s3transfer sends that ETag as If-Match on every GET, so an object replaced
        mid-copy fails with 412 instead of mixing two versions.
        """
        self._run_transfer(
            lambda manager, subscribers: manager.download(
                self.bucket, self.key, fileobj, subscribers=[_KnownObject(expected), *subscribers],
            ),
            on_bytes,
        )

    def put_verified(self, data: bytes, on_bytes: ByteCounter) -> str:
        """Store ``data`` (below the multipart threshold) with one PUT, checked by its answer.

        S3 answers a single-part PUT with the MD5 of what it stored as the ETag: it
        must be ours. Where it is not an MD5 (SSE-KMS), the SHA-256 checksum sent
        with the request, which S3 checks on receipt (BadDigest otherwise), must come
        back. No HEAD afterwards. A mismatch deletes the object. Returns the check.
        """
        digest = hashlib.sha256(data)
        checksum = base64.b64encode(digest.digest()).decode()
        client = self.boto_client
        self._refuse_silent_endpoint()
        try:
            answer = client.put_object(
                Bucket=self.bucket, Key=self.key, Body=data, ChecksumSHA256=checksum,
                Metadata={SHA256_METADATA_KEY: digest.hexdigest()},
            )
        except (bx.BotoCoreError, bx.ClientError, ConnectionError) as error:
            raise self.error(error) from error
        on_bytes(len(data))
        if md5_from_etag(answer.get("ETag")) == hashlib.md5(data).hexdigest():
            return "md5"
        if answer.get("ChecksumSHA256") == checksum:
            return "s3_sha256"
        self.delete_quietly()
        raise TransferError(
            f"{self.path}: the store's answer to the upload does not match the data sent "
            "(MD5 ETag or SHA-256 checksum): nothing was kept, run again"
        )

    def upload_from(self, path: str, sha256: str, on_bytes: ByteCounter) -> None:
        """Send a local file (multipart above 8 MiB), recording its sha256 in the metadata."""
        self._run_transfer(
            lambda manager, subscribers: manager.upload(
                path, self.bucket, self.key,
                extra_args={"Metadata": {SHA256_METADATA_KEY: sha256}},
                subscribers=subscribers,
            ),
            on_bytes,
        )

    def delete_quietly(self) -> None:
        try:
            self.boto_client.delete_object(Bucket=self.bucket, Key=self.key)
        except Exception:  # best effort: the original error is the one to report
            pass

    def _run_transfer(self, submit, on_bytes: ByteCounter) -> None:
        client = self.boto_client
        self._refuse_silent_endpoint()
        try:
            with create_transfer_manager(client, transfer_config()) as manager:
                submit(manager, [ProgressCallbackInvoker(on_bytes)]).result()
        except (bx.BotoCoreError, bx.ClientError, RetriesExceededError, S3DownloadFailedError,
                S3UploadFailedError, S3ValidationError,
                ConnectionError) as error:
            raise self.error(error) from error


class _KnownObject(BaseSubscriber):
    """Hands s3transfer the size and ETag we already have, saving it a HEAD request."""

    def __init__(self, info: ObjectInfo) -> None:
        self.info = info

    def on_queued(self, future, **kwargs) -> None:
        future.meta.provide_transfer_size(self.info.size)
        future.meta.provide_object_etag(self.info.version)


def object_info(head: dict) -> ObjectInfo:
    """What a HEAD's or a GET's answer says about the object."""
    etag = head.get("ETag", "")
    return ObjectInfo(
        size=int(head["ContentLength"]),
        version=etag,
        sha256=(head.get("Metadata") or {}).get(SHA256_METADATA_KEY),
        md5=md5_from_etag(etag),
        checksums=full_object_checksums(head),
        multipart_etag=multipart_etag(etag),
    )


def full_object_checksums(head: dict) -> tuple[tuple[str, str], ...]:
    """S3's whole-object checksums from a HEAD: ``(("crc32", "..."), ...)``.

    On a multipart object a checksum covers the whole object only when S3 says
    so (ChecksumType FULL_OBJECT); otherwise it is composite (a checksum of the
    parts' checksums, e.g. ``"...-3"``) and left out: the multipart ETag checks
    those objects. moto, like older S3 answers, gives composite CRCs without the
    suffix or a type, hence the rule.
    """
    multipart = multipart_etag(head.get("ETag")) is not None
    if head.get("ChecksumType") == "COMPOSITE" or (
        multipart and head.get("ChecksumType") != "FULL_OBJECT"
    ):
        return ()
    found = []
    for algorithm in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
        value = head.get(f"Checksum{algorithm}")
        if value and "-" not in value:
            found.append((algorithm.lower(), value))
    return tuple(found)


def _with_code(error, code: str):
    error.response.setdefault("Error", {})["Code"] = code
    return error


def list_prefix(url: str, recursive: bool = True, client: S3Client | None = None) -> dict:
    """``{key relative to url: ObjectInfo}`` of the objects below ``s3://bucket/prefix/``.

    One ListObjectsV2 request per 1,000 keys (paginated). ``recursive=False``
    stops at the next ``/`` (a folder's own files). The infos carry size and
    ETag (a listing has no metadata or checksums): enough for content identity,
    and the ETag's MD5 verifies a single-part download. A missing bucket, refused
    credentials or a silent endpoint raise the same TransferErrors as a HEAD.
    """
    folder = S3FileTarget(url.rstrip("/") + "/", client=client)
    boto = folder.boto_client
    folder._refuse_silent_endpoint()
    options = {"Bucket": folder.bucket, "Prefix": folder.key}
    if not recursive:
        options["Delimiter"] = "/"
    found: dict[str, ObjectInfo] = {}
    try:
        for page in boto.get_paginator("list_objects_v2").paginate(**options):
            for item in page.get("Contents", ()):
                etag = item.get("ETag", "")
                found[item["Key"][len(folder.key):]] = ObjectInfo(
                    size=int(item["Size"]), version=etag, md5=md5_from_etag(etag),
                    multipart_etag=multipart_etag(etag),
                )
    except (bx.ClientError, bx.BotoCoreError) as error:
        raise folder.error(error) from error
    _BUCKETS_SEEN.add((boto.meta.endpoint_url, folder.bucket))
    return found
