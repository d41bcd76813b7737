"""S3 objects as luigi targets: one HEAD to check, boto3's transfer manager to copy.

Everything S3-specific lives here: the target class, the streaming/multipart
copies, and turning botocore's exceptions into one-line TransferErrors. The
boto3 client is the one ``luigi.contrib.s3.S3Client`` builds, so luigi.cfg
``[s3]`` (``endpoint_url``, ...) and ``AWS_ENDPOINT_URL_S3`` both apply.
"""

from __future__ import annotations

from collections.abc import Callable

import luigi.format
from boto3.s3.transfer import ProgressCallbackInvoker, TransferConfig, create_transfer_manager
from botocore import exceptions as bx
from luigi.contrib.s3 import S3Client, S3Target
from s3transfer.exceptions import (
    RetriesExceededError,
    S3DownloadFailedError,
    S3UploadFailedError,
    S3ValidationError,
)
from s3transfer.subscribers import BaseSubscriber

from .errors import TransferError
from .integrity import ObjectInfo, md5_from_etag

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
        # The classic engine: the CRT one, when installed, ignores our part settings.
        preferred_transfer_client="classic",
    )


class S3FileTarget(S3Target):
    """An ``S3Target`` for one object (bytes, ``format=Nop``).

    ``exists()`` is one HEAD request (luigi's also lists the "directory"), and
    it raises TransferError for an unreachable endpoint, a missing bucket or
    refused credentials instead of a botocore traceback.
    """

    def __init__(self, path: str, client: S3Client | None = None) -> None:
        super().__init__(path, format=luigi.format.Nop, client=client)
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
        return describe_s3_error(error, self.path, self.endpoint)

    def exists(self) -> bool:
        return self.stat() is not None

    def stat(self) -> ObjectInfo | None:
        """Size, ETag and stored sha256 of the object; None when the key is missing."""
        client = self.boto_client
        try:
            head = client.head_object(Bucket=self.bucket, Key=self.key)
        except bx.ClientError as error:
            if _error_code(error) not in _MISSING_KEY_CODES:
                raise self.error(error) from error
            self._require_bucket(client)
            return None
        except bx.BotoCoreError as error:
            raise self.error(error) from error
        etag = head.get("ETag", "")
        return ObjectInfo(
            size=int(head["ContentLength"]),
            version=etag,
            sha256=(head.get("Metadata") or {}).get(SHA256_METADATA_KEY),
            md5=md5_from_etag(etag),
        )

    def _require_bucket(self, client) -> None:
        # A HEAD on a key of a missing bucket is a bare 404 too: ask the bucket.
        try:
            client.head_bucket(Bucket=self.bucket)
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


def _with_code(error, code: str):
    error.response.setdefault("Error", {})["Code"] = code
    return error
