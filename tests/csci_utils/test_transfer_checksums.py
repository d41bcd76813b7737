"""Downloads are verified against the strongest checksum an object has, whoever uploaded it.

Objects are uploaded multipart by boto3 and by the aws CLI against moto's server;
a fault-injecting proxy on 127.0.0.1 corrupts bodies in transit.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import boto3
import luigi
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from transfer_helpers import (
    DownloadImage,
    MiB,
    S3Store,
    SchedulerKeepingFactory,
    build,
    files_under,
)

from csci_utils.luigi import explain_failures
from csci_utils.luigi.integrity import ObjectInfo, file_digests, strongest_hash, verify_copy
from fixtures.fault_proxy import FaultProxy
from fixtures.s3 import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REGION, s3_environment

Status = luigi.execution_summary.LuigiStatusCode
PART = 5 * MiB  # S3's smallest part size, so the multipart objects stay small
DATA = os.urandom(2 * PART + 12345)  # three parts


def _client(endpoint_url: str, checksums: bool):
    # when_required: the client adds no CRC32 of its own, as older tools and SDKs do.
    config = Config(request_checksum_calculation="when_supported" if checksums else "when_required")
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        config=config,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )


def _upload_multipart(store: S3Store, endpoint_url: str, tmp_path: Path, checksums: bool) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(DATA)
    _client(endpoint_url, checksums).upload_file(
        str(source),
        store.bucket,
        store.key("images/big.bin"),
        Config=TransferConfig(multipart_threshold=PART, multipart_chunksize=PART),
    )


def _download(store: S3Store, local_root: Path):
    task = DownloadImage(remote_root=store.root, local_root=str(local_root), name="big.bin")
    factory = SchedulerKeepingFactory()
    return task, build(task, factory=factory), factory


def test_a_boto3_multipart_object_with_composite_crc32_is_checked_against_its_etag(
    s3_server, tmp_path
):
    store = S3Store(s3_server)
    _upload_multipart(store, s3_server.endpoint_url, tmp_path, checksums=True)
    assert store.client.head_object(
        Bucket=store.bucket, Key=store.key("images/big.bin"), ChecksumMode="ENABLED"
    ).get("ChecksumCRC32")  # composite: per part
    task, result, factory = _download(store, tmp_path / "local")

    assert result.status == Status.SUCCESS
    assert factory.progress(task)[1].endswith("done, multipart_etag verified")
    assert Path(task.output().path).read_bytes() == DATA


def test_a_multipart_object_without_checksums_is_checked_against_its_recomputed_etag(
    s3_server, tmp_path
):
    store = S3Store(s3_server)
    _upload_multipart(store, s3_server.endpoint_url, tmp_path, checksums=False)
    assert store.head("images/big.bin")["ETag"].endswith('-3"')
    task, result, factory = _download(store, tmp_path / "local")

    assert result.status == Status.SUCCESS
    assert factory.progress(task)[1].endswith("done, multipart_etag verified")


def test_an_aws_cli_multipart_upload_is_verified(s3_server, tmp_path):
    aws = Path(sys.executable).with_name("aws")
    if not aws.exists():
        pytest.skip("the aws CLI is not installed in this environment")
    store = S3Store(s3_server)
    source = tmp_path / "big.bin"
    source.write_bytes(DATA)
    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n")
    subprocess.run(
        [str(aws), "s3", "cp", "--quiet", str(source), f"{store.root}/images/big.bin"],
        check=True,
        env={**os.environ, "AWS_CONFIG_FILE": str(config)},
        timeout=60,
    )
    assert store.head("images/big.bin")["ETag"].endswith('-3"')
    task, result, factory = _download(store, tmp_path / "local")

    assert result.status == Status.SUCCESS
    message = factory.progress(task)[1]
    assert message.endswith("done, multipart_etag verified"), message


@pytest.mark.parametrize("checksums", [True, False], ids=["crc32", "etag-only"])
def test_a_body_corrupted_in_transit_leaves_nothing_in_the_cache(s3_server, tmp_path, checksums):
    store = S3Store(s3_server)
    _upload_multipart(store, s3_server.endpoint_url, tmp_path, checksums=checksums)
    proxy = FaultProxy(s3_server.endpoint_url)
    try:
        with s3_environment(proxy.endpoint_url):
            proxy.fault = "corrupt-get"
            task, result, _ = _download(store, tmp_path / "local")
            assert result.status == Status.FAILED
            [line] = explain_failures(result)
            assert store.url("images/big.bin") in line
            assert files_under(tmp_path / "local") == []

            proxy.fault = None  # the next run copies it cleanly
            task, result, _ = _download(store, tmp_path / "local")
            assert result.status == Status.SUCCESS
            assert Path(task.output().path).read_bytes() == DATA
    finally:
        proxy.stop()


def test_a_single_part_object_with_only_a_full_object_checksum_uses_it(s3_server, tmp_path):
    from csci_utils.luigi.s3_files import full_object_checksums

    head = {"ETag": '"abc-2"', "ChecksumCRC32": "AAAAAA==", "ChecksumType": "FULL_OBJECT"}
    assert full_object_checksums(head) == (("crc32", "AAAAAA=="),)
    assert (
        full_object_checksums({"ETag": '"' + "a" * 32 + '-2"', "ChecksumCRC32": "AAAAAA=="}) == ()
    )
    assert full_object_checksums({"ETag": '"' + "a" * 32 + '"', "ChecksumSHA256": "x"}) == (
        ("sha256", "x"),
    )


def test_the_check_order_prefers_our_sha256_then_s3_checksums_then_etags(tmp_path):
    path = tmp_path / "f.bin"
    data = b"x" * (3 * 1024 + 7)
    path.write_bytes(data)
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    parts = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-4"
    base = ObjectInfo(len(data), "v", multipart_etag=etag, part_size=1024)

    assert strongest_hash(base) == "multipart_etag"
    assert verify_copy(str(path), len(data), base, "u") == "multipart_etag"
    with_crc = ObjectInfo(
        len(data), "v", checksums=(("crc32", crc32),), multipart_etag=etag, part_size=1024
    )
    assert verify_copy(str(path), len(data), with_crc, "u") == "s3_crc32"
    sha = file_digests(str(path))["sha256"]
    assert (
        verify_copy(
            str(path),
            len(data),
            ObjectInfo(len(data), "v", sha256=sha, checksums=(("crc32", crc32),)),
            "u",
        )
        == "sha256"
    )
    # Without the part layout a multipart ETag cannot be recomputed: size only.
    assert strongest_hash(ObjectInfo(len(data), "v", multipart_etag=etag)) is None
    wrong = ObjectInfo(len(data), "v", checksums=(("crc32", "AAAAAA=="),))
    with pytest.raises(Exception, match="s3_crc32 does not match"):
        verify_copy(str(path), len(data), wrong, "s3://b/k")


def _counting_requests(client) -> list[str]:
    seen: list[str] = []
    client.meta.events.register(
        "before-send.s3.*", lambda request, **_: seen.append(request.method)
    )
    return seen


def test_identity_and_checksums_come_from_the_one_head_of_the_completeness_check(
    s3_server, tmp_path
):
    from csci_utils.luigi.s3_files import S3FileTarget

    store = S3Store(s3_server)
    store.put("images/a.jpg", b"first")
    target = S3FileTarget(store.url("images/a.jpg"))
    sent = _counting_requests(target.boto_client)
    first = target.stat()
    assert sent == ["HEAD"]  # size, ETag identity and checksums: one request
    assert first.identity == store.head("images/a.jpg")["ETag"].strip('"')
    assert dict(first.checksums).get("crc32")
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"][0]
    assert listed["ETag"].strip('"') == first.identity  # a listing gives the same identity
    store.put("images/a.jpg", b"second")
    assert target.stat().identity != first.identity
    # Missing keys of a bucket already seen cost one HEAD each, not a HEAD + a bucket check.
    sent.clear()
    assert S3FileTarget(store.url("images/b.jpg"), client=target.fs).stat() is None
    assert S3FileTarget(store.url("images/c.jpg"), client=target.fs).stat() is None
    assert sent == ["HEAD", "HEAD"]
