"""Downloads keyed on the remote and the content identity: never stale, foreign or twice."""

from __future__ import annotations

from pathlib import Path

import luigi
from transfer_helpers import DownloadImage, FolderStore, S3Store, build, files_under

from csci_utils.luigi import explain_failures, remote_stat, remote_target
from csci_utils.luigi.roots import root_key

Status = luigi.execution_summary.LuigiStatusCode


def _identity(store, relative: str) -> str:
    return remote_stat(remote_target(store.root, relative)).identity


def _download(
    store, local_root: Path, name: str = "photo.jpg", identity: str | None = None
) -> DownloadImage:
    identity = identity if identity is not None else _identity(store, f"images/{name}")
    return DownloadImage(
        remote_root=store.root, local_root=str(local_root), name=name, identity=identity
    )


def test_the_cache_of_one_remote_never_serves_another(store, s3_server, tmp_path):
    other = S3Store(s3_server) if store.kind == "s3" else FolderStore(tmp_path / "other-remote")
    store.put("images/photo.jpg", b"from the first remote")
    other.put("images/photo.jpg", b"from the other remote")
    local = tmp_path / "cache"

    first, second = _download(store, local), _download(other, local)
    assert build(first, second).status == Status.SUCCESS
    assert first.output().path != second.output().path
    assert Path(first.output().path).read_bytes() == b"from the first remote"
    assert Path(second.output().path).read_bytes() == b"from the other remote"
    assert root_key(store.root) in first.output().path


def test_a_replaced_file_is_downloaded_again_and_an_unchanged_one_never(store, tmp_path):
    store.put("images/photo.jpg", b"old bytes")
    local = tmp_path / "cache"
    old = _download(store, local)
    assert build(old).status == Status.SUCCESS
    assert _download(store, local).complete()  # unchanged: the cached copy serves

    store.put("images/photo.jpg", b"new bytes, same name")
    new = _download(store, local)
    assert new.identity != old.identity and not new.complete()
    assert build(new).status == Status.SUCCESS
    assert Path(new.output().path).read_bytes() == b"new bytes, same name"


def test_a_file_replaced_after_planning_fails_and_keeps_nothing(store, tmp_path):
    store.put("images/photo.jpg", b"planned")
    planned = _download(store, tmp_path / "cache")
    store.put("images/photo.jpg", b"replaced")
    result = build(planned)
    assert result.status == Status.FAILED
    assert "replaced after the run was planned" in explain_failures(result)[0]
    assert files_under(tmp_path / "cache") == []
