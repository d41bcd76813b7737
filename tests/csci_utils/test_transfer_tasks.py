"""Download/Upload through luigi.build against both kinds of remote root:
moto's S3 over HTTP on 127.0.0.1, and a local folder."""

from __future__ import annotations

import hashlib
import os

import luigi
import pytest
from transfer_helpers import (
    DownloadImage,
    FolderStore,
    LocalImage,
    MiB,
    RemoteImage,
    SchedulerKeepingFactory,
    UploadImage,
    build,
    files_under,
)

from csci_utils.luigi import Download, TransferError, explain_failures

SUCCESS = luigi.execution_summary.LuigiStatusCode.SUCCESS


class RecordingDownload(DownloadImage):
    reported: list[int] = []

    def run(self):
        # luigi installs set_progress_percentage on the instance when the run starts.
        report = self.set_progress_percentage

        def record_then_report(percentage):
            type(self).reported.append(percentage)
            report(percentage)

        self.set_progress_percentage = record_then_report
        super().run()


def test_download_lands_the_exact_bytes_and_reports_progress(store, local_root):
    data = os.urandom(3 * MiB + 17)
    store.put("images/photo.jpg", data)
    task = RecordingDownload(remote_root=store.root, local_root=str(local_root), name="photo.jpg")
    RecordingDownload.reported = []
    factory = SchedulerKeepingFactory()

    result = build(task, factory=factory)

    assert result.status == SUCCESS
    assert (local_root / "images" / "photo.jpg").read_bytes() == data
    assert files_under(local_root) == ["images/photo.jpg"]  # no temp file left behind
    reported = RecordingDownload.reported
    assert reported[0] < 100 and reported[-1] == 100 and reported == sorted(reported)
    percent, message = factory.progress(task)
    assert percent == 100
    assert store.url("images/photo.jpg") in message and "verified" in message


def test_upload_then_download_round_trips_a_multipart_sized_file(store, tmp_path):
    data = os.urandom(17 * MiB)  # above the 8 MiB multipart threshold
    laptop, ci_machine = tmp_path / "laptop", tmp_path / "ci"
    (laptop / "images").mkdir(parents=True)
    (laptop / "images" / "model.pth").write_bytes(data)

    assert (
        build(UploadImage(remote_root=store.root, local_root=str(laptop), name="model.pth")).status
        == SUCCESS
    )
    assert store.get("images/model.pth") == data
    if store.kind == "s3":
        head = store.head("images/model.pth")
        assert head["ETag"].strip('"').endswith("-3")  # really sent in three parts
        assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()

    assert (
        build(
            DownloadImage(remote_root=store.root, local_root=str(ci_machine), name="model.pth")
        ).status
        == SUCCESS
    )
    assert (ci_machine / "images" / "model.pth").read_bytes() == data


def test_upload_is_skipped_when_the_remote_already_has_the_file(store, local_root):
    store.put("images/photo.jpg", b"the remote copy")
    LocalImage(local_root=str(local_root), name="photo.jpg").output().makedirs()
    (local_root / "images" / "photo.jpg").write_bytes(b"a different local copy")
    task = UploadImage(remote_root=store.root, local_root=str(local_root), name="photo.jpg")

    result = build(task)

    assert result.status == SUCCESS
    assert "complete ones were encountered" in result.summary_text
    assert "ran successfully" not in result.summary_text  # nothing was uploaded
    assert store.get("images/photo.jpg") == b"the remote copy"


def test_up_down_pair_copies_whichever_way_is_missing(store, tmp_path):
    """Download's output is LocalFile's target, so luigi skips the side that has the file."""
    def pair(local):
        params = dict(remote_root=store.root, local_root=str(local), name="photo.jpg")
        return UploadImage(**params), DownloadImage(**params)

    laptop, ci_machine = tmp_path / "laptop", tmp_path / "ci"
    upload, download = pair(laptop)
    assert (
        download.output().path == LocalImage(local_root=str(laptop), name="photo.jpg").output().path
    )
    (laptop / "images").mkdir(parents=True)
    (laptop / "images" / "photo.jpg").write_bytes(b"made on the laptop")

    assert build(upload, download).status == SUCCESS  # the laptop uploads
    assert store.get("images/photo.jpg") == b"made on the laptop"

    assert build(*pair(ci_machine)).status == SUCCESS  # a fresh machine downloads
    assert (ci_machine / "images" / "photo.jpg").read_bytes() == b"made on the laptop"


def test_file_url_roots_work_like_folders(tmp_path):
    FolderStore(tmp_path / "remote").put("images/a.bin", b"abc")
    task = DownloadImage(
        remote_root=f"file://{tmp_path / 'remote'}",
        local_root=f"file://{tmp_path / 'local'}",
        name="a.bin",
    )
    assert build(task).status == SUCCESS
    assert (tmp_path / "local" / "images" / "a.bin").read_bytes() == b"abc"


class ConfiguredDownload(Download):
    SHARED_RELATIVE_PATH = "models"
    CONFIG_SECTION = "transfer_test_section"


@pytest.fixture
def config_section():
    config = luigi.configuration.get_config()
    config.add_section(ConfiguredDownload.CONFIG_SECTION)
    yield config
    config.remove_section(ConfiguredDownload.CONFIG_SECTION)


def test_empty_root_parameters_come_from_the_config_section(store, local_root, config_section):
    store.put("models/m.pth", b"weights")
    config_section.set(ConfiguredDownload.CONFIG_SECTION, "remote_root", store.root)
    config_section.set(ConfiguredDownload.CONFIG_SECTION, "local_root", str(local_root))

    assert build(ConfiguredDownload(name="m.pth")).status == SUCCESS
    assert (local_root / "models" / "m.pth").read_bytes() == b"weights"


def test_a_root_set_nowhere_is_a_clear_error(config_section):
    with pytest.raises(
        TransferError,
        match=r"remote_root is not set: pass --remote-root or set \[transfer_test_section\]",
    ):
        ConfiguredDownload(name="m.pth").requires()
    result = build(ConfiguredDownload(name="m.pth", local_root="/nonexistent"))
    assert result.status != SUCCESS
    assert any("remote_root is not set" in line for line in explain_failures(result))


def test_missing_remote_file_is_incomplete_and_explained_in_one_line(store, local_root):
    params = dict(remote_root=store.root, name="absent.jpg")
    assert not RemoteImage(**params).complete()

    result = build(DownloadImage(local_root=str(local_root), **params))

    assert result.status == luigi.execution_summary.LuigiStatusCode.MISSING_EXT
    assert explain_failures(result) == [
        f"{store.url('images/absent.jpg')} does not exist: put the file there, or point the "
        "remote root (--remote-root or remote_root in luigi.cfg) at where it is"
    ]
    assert files_under(local_root) == []


class DownloadNamedImage(DownloadImage):
    SOURCE = RemoteImage


def test_a_subclass_names_its_source_task_and_the_copy_still_works(store, local_root):
    store.put("images/named.jpg", b"named bytes")
    task = DownloadNamedImage(remote_root=store.root, local_root=str(local_root), name="named.jpg")
    assert type(task.requires()) is RemoteImage
    assert build(task).status == SUCCESS
    assert (local_root / "images" / "named.jpg").read_bytes() == b"named bytes"

    missing = DownloadNamedImage(
        remote_root=store.root, local_root=str(local_root), name="absent.jpg"
    )
    result = build(missing)
    assert result.status == luigi.execution_summary.LuigiStatusCode.MISSING_EXT
    assert [type(t) for t in _pending_external(result)] == [RemoteImage]


def _pending_external(result):
    from luigi.execution_summary import _summary_dict

    return list(_summary_dict(result.worker)["still_pending_ext"])


def test_a_source_in_another_folder_is_refused(tmp_path):
    class OtherFolder(RemoteImage):
        SHARED_RELATIVE_PATH = "models"

    class WrongFolder(DownloadImage):
        SOURCE = OtherFolder

    with pytest.raises(TypeError, match="SHARED_RELATIVE_PATH"):
        WrongFolder(remote_root=str(tmp_path), local_root=str(tmp_path), name="x.jpg").requires()
