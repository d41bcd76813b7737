"""Failure paths: each one fails the run with one clear line and leaves no file at a final path."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import luigi
import pytest
from transfer_helpers import (
    DownloadImage,
    FolderStore,
    MiB,
    S3Store,
    SchedulerKeepingFactory,
    UploadImage,
    build,
    files_under,
)

import csci_utils.luigi.transfer as transfer
from csci_utils.luigi import explain_failures, remote_target
from csci_utils.luigi.s3_files import S3FileTarget
from fixtures.s3 import DUMMY_SECRET_ACCESS_KEY, S3ServerProcess, s3_environment

REPO = Path(__file__).resolve().parents[2]
Status = luigi.execution_summary.LuigiStatusCode


def _replace_in_place(store, relative: str, data: bytes) -> None:
    if store.kind == "folder":  # how atomic writers replace a file: a new inode
        path = store.folder / relative
        path.with_suffix(".new").write_bytes(data)
        os.replace(path.with_suffix(".new"), path)
    else:
        store.put(relative, data)


def test_content_replaced_between_check_and_copy_fails_and_keeps_nothing(store, local_root):
    store.put("images/photo.jpg", b"A" * 4096)
    # Looked up for the batch (as the pipeline's planner does), then replaced: the copy is
    # pinned to what was looked up (S3: If-Match on the GET; a folder: its version).
    transfer.resolve(remote_target(store.root, "images/photo.jpg"))
    _replace_in_place(store, "images/photo.jpg", b"B" * 4096)  # same size, other bytes
    result = build(
        DownloadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
    )

    assert result.status == Status.FAILED
    [line] = explain_failures(result)
    assert (
        store.url("images/photo.jpg") in line and "changed" in line and "nothing was kept" in line
    )
    assert files_under(local_root) == []


class _CutShort:
    """A writable file that silently drops everything past ``limit`` bytes."""

    def __init__(self, fileobj, limit: int) -> None:
        self._fileobj, self._limit = fileobj, limit

    def write(self, data) -> int:
        room = max(0, self._limit - self._fileobj.tell())
        self._fileobj.write(bytes(data[:room]))
        return len(data)

    def __getattr__(self, name):
        return getattr(self._fileobj, name)


def test_a_stream_cut_short_fails_and_keeps_nothing(store, local_root, monkeypatch):
    store.put("images/photo.jpg", os.urandom(2 * MiB))
    if store.kind == "s3":
        original = S3FileTarget.read_body
        monkeypatch.setattr(S3FileTarget, "read_body",
                            lambda self, fileobj, *a: original(self, _CutShort(fileobj, MiB), *a))
    else:
        original = transfer.copy_into
        monkeypatch.setattr(
            transfer,
            "copy_into",
            lambda source, info, fileobj, *a: original(source, info, _CutShort(fileobj, MiB), *a),
        )

    result = build(
        DownloadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
    )

    assert result.status == Status.FAILED
    assert (
        f"{store.url('images/photo.jpg')}: copied {MiB} bytes but the store reported {2 * MiB}"
        in explain_failures(result)[0]
    )
    assert files_under(local_root) == []


def test_a_local_file_changing_during_upload_leaves_nothing_remote(store, local_root, monkeypatch):
    source = local_root / "images" / "photo.jpg"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"A" * 4096)
    if store.kind == "s3":  # the file changes after it was read, while it is sent
        sent = S3FileTarget.put_verified

        def touch_then_send(self, data, on_bytes):
            _replace_in_place(FolderStore(local_root), "images/photo.jpg", b"B" * 4096)
            return sent(self, data, on_bytes)

        monkeypatch.setattr(S3FileTarget, "put_verified", touch_then_send)
    else:
        copied = transfer.copy_into

        def copy_then_touch(source_path, info, fileobj, on_bytes, root=None):
            _replace_in_place(FolderStore(local_root), "images/photo.jpg", b"B" * 4096)
            return copied(source_path, info, fileobj, on_bytes, root)

        monkeypatch.setattr(transfer, "copy_into", copy_then_touch)

    result = build(
        UploadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
    )

    assert result.status == Status.FAILED
    assert "changed while it was being" in explain_failures(result)[0]
    assert store.get("images/photo.jpg") is None
    if store.kind == "folder":
        assert files_under(store.folder) == []


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "forked-worker"])
def test_an_object_whose_sha256_does_not_match_is_not_kept(s3_server, local_root, workers):
    store = S3Store(s3_server)
    store.put("images/photo.jpg", b"real bytes", metadata={"sha256": "0" * 64})

    # With 2 workers the task runs in a child process: the line reaches
    # explain_failures through the scheduler, as it would from luigid.
    result = build(
        DownloadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg"),
        workers=workers,
    )

    assert result.status == Status.FAILED
    assert "sha256 does not match" in explain_failures(result)[0]
    assert files_under(local_root) == []


def test_objects_uploaded_by_others_are_checked_against_their_single_part_etag(
    s3_server, local_root
):
    store = S3Store(s3_server)
    store.put("images/photo.jpg", b"uploaded with another tool")  # no sha256 metadata
    task = DownloadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
    factory = SchedulerKeepingFactory()

    assert build(task, factory=factory).status == Status.SUCCESS
    assert factory.progress(task)[1].endswith("done, md5 verified")


class KillServerMidDownload(DownloadImage):
    server = None

    def run(self):
        # luigi installs set_progress_percentage on the instance when the run starts.
        report = self.set_progress_percentage

        def report_then_kill(percentage):
            report(percentage)
            if percentage < 100:
                type(self).server.kill()

        self.set_progress_percentage = report_then_kill
        super().run()


@pytest.mark.slow
def test_server_dying_mid_download_fails_and_keeps_nothing(local_root):
    server = S3ServerProcess()
    try:
        with s3_environment(server.endpoint_url):
            bucket = server.create_bucket()
            server.client().put_object(
                Bucket=bucket, Key="images/big.bin", Body=os.urandom(48 * MiB)
            )
            KillServerMidDownload.server = server
            result = build(
                KillServerMidDownload(
                    remote_root=f"s3://{bucket}", local_root=str(local_root), name="big.bin"
                )
            )
    finally:
        server.kill()

    assert result.status == Status.FAILED
    [line] = explain_failures(result)
    assert line.startswith(f"cannot reach the S3 endpoint {server.endpoint_url} for s3://{bucket}/images/big.bin")
    assert files_under(local_root) == []


def test_a_missing_bucket_is_named(s3_server, local_root):
    result = build(
        DownloadImage(remote_root="s3://no-such-bucket/x", local_root=str(local_root), name="a.jpg")
    )
    assert result.status == Status.SCHEDULING_FAILED
    assert explain_failures(result) == [
        f"bucket 'no-such-bucket' does not exist at {s3_server.endpoint_url} "
        "(s3://no-such-bucket/x/images/a.jpg): create it or fix the remote root"
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_is_named(local_root):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with s3_environment(endpoint):
        result = build(
            UploadImage(remote_root="s3://bucket", local_root=str(local_root), name="a.jpg")
        )
        [line] = explain_failures(result)
    assert result.status != Status.SUCCESS
    assert line.startswith(f"cannot reach the S3 endpoint {endpoint} for s3://bucket/images/a.jpg")


def test_refused_credentials_are_reported_without_printing_them(
    s3_server, local_root, capfd, caplog
):
    store = S3Store(s3_server)
    store.put("images/photo.jpg", b"bytes")
    with s3_server.checking_credentials():
        result = build(
            DownloadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
        )

    assert result.status == Status.SCHEDULING_FAILED
    [line] = explain_failures(result)
    assert "refused the credentials" in line and store.url("images/photo.jpg") in line
    printed = "".join(capfd.readouterr()) + caplog.text + line
    assert DUMMY_SECRET_ACCESS_KEY not in printed


def _luigi_cli(*args: str, module: str = "csci_utils.luigi.tasks") -> subprocess.CompletedProcess:
    # The repository's luigi.cfg gives the exit codes ([retcode]): missing input 20.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "luigi", "--module", module, *args, "--local-scheduler"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=env,
    )


@pytest.mark.slow
def test_the_luigi_command_line_exits_non_zero_with_the_one_line_reason(store, local_root):
    run = _luigi_cli(
        "Download",
        "--remote-root",
        store.root,
        "--local-root",
        str(local_root),
        "--name",
        "absent.jpg",
    )
    assert run.returncode == 20, run.stderr
    assert f"{store.url('absent.jpg')} does not exist: put the file there" in run.stderr
    assert DUMMY_SECRET_ACCESS_KEY not in run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["unreachable endpoint", "refused credentials"])
def test_the_luigi_command_line_names_s3_problems_without_printing_credentials(
    s3_server, local_root, case, monkeypatch
):
    store = S3Store(s3_server)
    store.put("images/photo.jpg", b"bytes")
    args = (
        "DownloadImage",
        "--remote-root",
        store.root,
        "--local-root",
        str(local_root),
        "--name",
        "photo.jpg",
    )
    if case == "unreachable endpoint":
        endpoint = f"http://127.0.0.1:{_closed_port()}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        run = _luigi_cli(*args, module="transfer_helpers")
        expected = f"cannot reach the S3 endpoint {endpoint} for {store.url('images/photo.jpg')}"
    else:
        with s3_server.checking_credentials():
            run = _luigi_cli(*args, module="transfer_helpers")
        expected = f"refused the credentials for {store.url('images/photo.jpg')}"

    assert run.returncode == 35, run.stderr  # [retcode] scheduling_error: complete() raised
    assert expected in run.stderr
    assert DUMMY_SECRET_ACCESS_KEY not in run.stdout + run.stderr
    assert files_under(local_root) == []
