"""Plain-function tests: root URLs, paths, integrity checks and error messages (no Luigi run)."""

from __future__ import annotations

import hashlib
import os
import threading

import luigi.format
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from luigi.contrib.s3 import S3Target

from csci_utils.luigi import FolderRoot, S3Root, TransferError, parse_root, remote_target
from csci_utils.luigi.integrity import (
    HashingWriter,
    ObjectInfo,
    file_digests,
    md5_from_etag,
    verify_copy,
)
from csci_utils.luigi.progress import ByteTally, MiB, TaskProgress
from csci_utils.luigi.roots import join_relative
from csci_utils.luigi.s3_files import describe_s3_error
from csci_utils.luigi.target import SuffixPreservingLocalTarget


@pytest.mark.parametrize(
    "root, expected",
    [
        ("s3://bucket/some/prefix/", S3Root("bucket", "some/prefix")),
        ("s3://bucket", S3Root("bucket", "")),
        ("/srv/store", FolderRoot("/srv/store")),
        ("data/remote/pset_4", FolderRoot("data/remote/pset_4")),
        ("file:///srv/my%20store", FolderRoot("/srv/my store")),
        ("file://localhost/srv/store", FolderRoot("/srv/store")),
    ],
)
def test_parse_root_understands_s3_urls_folders_and_file_urls(root, expected):
    assert parse_root(root) == expected


@pytest.mark.parametrize(
    "root, fragment",
    [("s3:///prefix", "names no bucket"), ("http://host/x", "unsupported scheme"),
     ("file://otherhost/x", "must be local"), ("  ", "empty")],
)
def test_parse_root_rejects_bad_roots_in_one_line(root, fragment):
    with pytest.raises(TransferError, match=fragment) as error:
        parse_root(root)
    assert "\n" not in str(error.value)


def test_remote_target_is_an_s3_target_for_s3_roots_and_keeps_bytes():
    target = remote_target("s3://bucket/prefix", "images/a.jpg")
    assert isinstance(target, S3Target)
    assert target.path == "s3://bucket/prefix/images/a.jpg"
    assert target.format is luigi.format.Nop


def test_remote_target_is_an_atomic_suffix_preserving_target_for_folders(tmp_path):
    target = remote_target(f"file://{tmp_path}", "images/a.jpg")
    assert isinstance(target, SuffixPreservingLocalTarget)
    assert target.path == str(tmp_path / "images" / "a.jpg")
    assert target.format is luigi.format.Nop


@pytest.mark.parametrize("bad", ["../escape.jpg", "/etc/passwd", "", "a/../../b"])
def test_relative_paths_cannot_leave_the_root(bad):
    with pytest.raises(TransferError, match="relative path"):
        join_relative("images", bad)


def test_file_digests_streams_and_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 10_000  # several read chunks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_digests(str(path), ("sha256", "md5")) == {
        "sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest(),
    }


def test_md5_from_etag_only_trusts_single_part_etags():
    assert md5_from_etag('"0123456789abcdef0123456789abcdef"') == "0123456789abcdef0123456789abcdef"
    assert md5_from_etag('"0123456789abcdef0123456789abcdef-3"') is None
    assert md5_from_etag(None) is None


def test_verify_copy_checks_size_then_the_strongest_hash(tmp_path):
    path = tmp_path / "copy.bin"
    path.write_bytes(b"payload")
    sha256 = hashlib.sha256(b"payload").hexdigest()
    md5 = hashlib.md5(b"payload").hexdigest()
    assert (
        verify_copy(str(path), 7, ObjectInfo(7, "v", sha256=sha256, md5="0" * 32), "u") == "sha256"
    )
    assert verify_copy(str(path), 7, ObjectInfo(7, "v", md5=md5), "u") == "md5"
    assert verify_copy(str(path), 7, ObjectInfo(7, "v"), "u") == "size"
    with pytest.raises(TransferError, match="s3://b/k: copied 7 bytes but the store reported 8"):
        verify_copy(str(path), 7, ObjectInfo(8, "v"), "s3://b/k")
    with pytest.raises(TransferError, match="md5 does not match"):
        verify_copy(str(path), 7, ObjectInfo(7, "v", md5="0" * 32), "s3://b/k")


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "secret-looking detail AKIASECRET"},
         "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


@pytest.mark.parametrize(
    "error, fragment",
    [
        (_client_error("NoSuchBucket", 404), "bucket 'bkt' does not exist at http://e:1"),
        (_client_error("NoSuchKey", 404), "s3://bkt/k.jpg does not exist"),
        (_client_error("InvalidAccessKeyId", 403), "refused the credentials"),
        (_client_error("SignatureDoesNotMatch", 403), "refused the credentials"),
        (_client_error("PreconditionFailed", 412), "changed while it was being copied"),
        (
            EndpointConnectionError(endpoint_url="http://e:1/bkt/k.jpg"),
            "cannot reach the S3 endpoint http://e:1",
        ),
        (NoCredentialsError(), "no AWS credentials found"),
    ],
)
def test_s3_errors_become_one_line_naming_the_url(error, fragment):
    message = str(describe_s3_error(error, "s3://bkt/k.jpg", "http://e:1"))
    assert fragment in message
    assert "s3://bkt/k.jpg" in message
    assert "\n" not in message
    assert "AKIASECRET" not in message  # the server's text is never echoed


class _FakeTask:
    def __init__(self):
        self.percentages, self.messages = [], []

    def set_progress_percentage(self, percentage):
        self.percentages.append(percentage)

    def set_status_message(self, message):
        self.messages.append(message)


def test_task_progress_is_throttled_monotonic_and_always_reports_the_end():
    task = _FakeTask()
    progress = TaskProgress(task, "downloading", "s3://b/k", interval=3600)
    for done in (10, 5, 20, 30, 100):  # threads report out of order
        progress(done * MiB, 100 * MiB)
    assert task.percentages == [10, 100]  # the first, then nothing until the end
    assert task.messages[-1] == "downloading s3://b/k: 100.0 of 100.0 MiB (100%)"


def test_byte_tally_adds_up_counts_from_many_threads():
    seen = []
    tally = ByteTally(4000, lambda done, total: seen.append((done, total)))
    threads = [threading.Thread(target=lambda: [tally(1) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tally.done == 4000 and max(seen) == (4000, 4000)


def test_hashing_writer_hashes_out_of_order_writes_as_they_land(tmp_path):
    data = os.urandom(5 * MiB + 123)
    chunks = [(start, data[start:start + 300_000]) for start in range(0, len(data), 300_000)]
    writer = HashingWriter(str(tmp_path / "part.bin"), "sha256")
    for start, chunk in chunks[1::2] + chunks[0::2]:  # every odd chunk first
        writer.seek(start)
        writer.write(chunk)
    assert writer.close() == {"sha256": hashlib.sha256(data).hexdigest()}
    assert (tmp_path / "part.bin").read_bytes() == data


def test_hashing_writer_gives_no_digest_for_a_file_with_a_hole(tmp_path):
    writer = HashingWriter(str(tmp_path / "part.bin"), "sha256")
    writer.seek(10)
    writer.write(b"after a hole")
    assert writer.close() == {}  # verify_copy then reads the whole file itself


def test_hashing_writer_survives_a_retried_part_rewriting_hashed_bytes(tmp_path):
    data = os.urandom(3 * MiB)
    writer = HashingWriter(str(tmp_path / "part.bin"), "sha256")
    for start, end in [(0, 2 * MiB), (MiB, 3 * MiB)]:  # the second write overlaps the first
        writer.seek(start)
        writer.write(data[start:end])
    assert writer.close() == {"sha256": hashlib.sha256(data).hexdigest()}


def test_a_folder_copy_has_no_watchdog_thread_and_an_s3_copy_has_one(tmp_path):
    # A batch makes two copies per image: a thread each, for a folder that cannot go
    # silent, was most of a small image's copying time.
    from csci_utils.luigi.tasks import copy_progress

    def watchdogs() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("stall watchdog")]

    with copy_progress(_FakeTask(), "downloading", str(tmp_path / "images" / "x.jpg")):
        assert watchdogs() == []
    with copy_progress(_FakeTask(), "downloading", "s3://b/images/x.jpg") as progress:
        assert watchdogs() == ["stall watchdog: s3://b/images/x.jpg"]
        assert progress.gives_up_after is not None  # quoted in the stall message
    assert watchdogs() == []
