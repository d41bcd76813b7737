"""The S3 request floor: one boto3 client per process and settings; an upload is one PUT
verified by its answer, a download one GET verified from its own headers; a corrupted or
missing object is still caught."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import luigi
import pytest
from transfer_helpers import S3Store, SchedulerKeepingFactory, UploadImage, build

from csci_utils.luigi import TransferError, download, explain_failures, remote_target
from csci_utils.luigi.folder_files import FolderFileTarget
from csci_utils.luigi.s3_files import S3FileTarget
from fixtures.fault_proxy import FaultProxy
from fixtures.s3 import s3_environment, start_s3_server

Status = luigi.execution_summary.LuigiStatusCode


def test_targets_share_one_client_per_process_and_settings(s3_server):
    store = S3Store(s3_server)
    store.put("images/a.png", b"a")
    first = S3FileTarget(store.url("images/a.png"))
    second = S3FileTarget(store.url("images/b.png"))
    # Making a client costs ~55 ms; each target used to make its own.
    assert first.boto_client is second.boto_client
    assert first.exists() and not second.exists()

    other = start_s3_server()  # another endpoint: another client, never the old one
    try:
        with s3_environment(other.endpoint_url):
            moved = S3FileTarget(store.url("images/a.png"))
            assert moved.boto_client is not first.boto_client
            assert moved.endpoint == other.endpoint_url
            # (both moto servers of this process share one backend: the object is there too)
            assert moved.exists()
    finally:
        other.stop()
    assert S3FileTarget(store.url("images/a.png")).boto_client is first.boto_client


def test_a_forked_child_makes_its_own_client(s3_server):
    store = S3Store(s3_server)
    store.put("images/a.png", b"a")
    parent = S3FileTarget(store.url("images/a.png")).boto_client
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a client shared across a fork would share its sockets
        try:
            child = S3FileTarget(store.url("images/a.png"))
            ok = child.boto_client is not parent and child.exists()
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def _through(proxy: FaultProxy):
    return s3_environment(proxy.endpoint_url)


def _upload(store: S3Store, local_root: Path, data: bytes):
    source = local_root / "images" / "photo.png"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)
    task = UploadImage(remote_root=store.root, local_root=str(local_root), name="photo.png")
    factory = SchedulerKeepingFactory()
    return task, build(task, factory=factory), factory


def test_an_upload_is_one_put_verified_by_its_answer(s3_server, tmp_path):
    store = S3Store(s3_server)
    data = os.urandom(300_000)
    proxy = FaultProxy(s3_server.endpoint_url)
    try:
        with _through(proxy):
            task, result, factory = _upload(store, tmp_path, data)
    finally:
        proxy.stop()
    assert result.status == Status.SUCCESS
    # luigi's completeness check (a HEAD: missing), then the PUT; no HEAD after it.
    on_the_object = [method for method, path in proxy.requests if path.endswith("/photo.png")]
    assert on_the_object == ["HEAD", "PUT"]
    assert factory.progress(task)[1].endswith("done, md5 verified")
    assert store.get("images/photo.png") == data
    stored = store.head("images/photo.png")
    assert stored["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_upload_corrupted_in_transit_is_caught_and_deleted(s3_server, tmp_path):
    store = S3Store(s3_server)
    proxy = FaultProxy(s3_server.endpoint_url)
    try:
        with _through(proxy):
            proxy.fault = "corrupt-put"
            _, result, _ = _upload(store, tmp_path, os.urandom(300_000))
    finally:
        proxy.stop()
    assert result.status == Status.FAILED
    [line] = explain_failures(result)
    assert store.url("images/photo.png") in line and "does not match" in line, line
    assert store.get("images/photo.png") is None  # the damaged object was deleted


def _download_plain(store: S3Store, local_root: Path, name: str = "photo.png"):
    """``download()`` of an object nobody looked up (as ContactSheet fetches a result)."""
    local = FolderFileTarget(str(local_root / name), root=str(local_root))
    return download(remote_target(store.root, f"images/{name}"), local), local


@pytest.mark.parametrize("uploader", ["ours", "another tool"])
def test_a_download_is_one_get_verified_from_its_own_headers(s3_server, tmp_path, uploader):
    store = S3Store(s3_server)
    data = os.urandom(300_000)
    if uploader == "ours":
        store.put("images/photo.png", data, {"sha256": hashlib.sha256(data).hexdigest()})
    else:
        store.put("images/photo.png", data)
    proxy = FaultProxy(s3_server.endpoint_url)
    try:
        with _through(proxy):
            check, local = _download_plain(store, tmp_path)
            assert [method for method, _ in proxy.requests] == ["GET"]  # no HEAD first

            proxy.fault = "corrupt-get"
            with pytest.raises(TransferError, match="does not match") as caught:
                _download_plain(store, tmp_path, "photo.png")
    finally:
        proxy.stop()
    assert check == ("sha256" if uploader == "ours" else "md5")
    assert Path(local.path).read_bytes() == data
    assert store.url("images/photo.png") in str(caught.value)
    assert os.listdir(tmp_path) == ["photo.png"]  # the first, good copy; no temp file left


def test_a_missing_object_is_one_clear_line_and_nothing_is_kept(s3_server, tmp_path):
    store = S3Store(s3_server)
    with pytest.raises(TransferError) as caught:
        _download_plain(store, tmp_path, "absent.png")
    assert str(caught.value) == (
        f"{store.url('images/absent.png')} does not exist: upload it first or fix the remote root"
    )
    assert os.listdir(tmp_path) == []


def test_a_large_object_not_looked_up_comes_in_parallel_parts_without_a_head(s3_server, tmp_path):
    store = S3Store(s3_server)
    data = os.urandom(9 * 1024 * 1024)  # above the 8 MiB threshold: two ranged parts
    store.put("images/big.bin", data, {"sha256": hashlib.sha256(data).hexdigest()})
    client = S3FileTarget(store.url("images/big.bin")).boto_client
    sent: list[tuple[str, str | None]] = []

    def record(request, **_):
        range_ = request.headers.get("Range")
        sent.append((request.method, range_.decode() if isinstance(range_, bytes) else range_))

    client.meta.events.register("before-send.s3.*", record)
    try:
        check, local = _download_plain(store, tmp_path, "big.bin")
    finally:
        client.meta.events.unregister("before-send.s3.*", record)
    assert check == "sha256" and Path(local.path).read_bytes() == data
    # The first GET's headers stand in for a HEAD (it is closed unread), then the parts.
    assert sent[0] == ("GET", None)
    assert sorted(range_ for _, range_ in sent[1:]) == ["bytes=0-8388607", "bytes=8388608-"]
    assert all(method == "GET" for method, _ in sent)
