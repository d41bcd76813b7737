"""Hostile folder stores: symbolic links never lead a read (or a write) outside a root."""

from __future__ import annotations

import os

import pytest
from transfer_helpers import DownloadImage, FolderStore, UploadImage, build, files_under

from csci_utils.luigi import explain_failures

SECRET = b"outside the store: must never be copied"


@pytest.fixture
def outside(tmp_path):
    path = tmp_path / "outside" / "secret.jpg"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _one_line(result) -> str:
    [line] = explain_failures(result)
    return line


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_remote_symlink_out_of_the_store_is_refused_with_one_line(tmp_path, outside, link):
    store = FolderStore(tmp_path / "remote")
    store.folder.mkdir()
    if link == "file":
        (store.folder / "images").mkdir()
        (store.folder / "images" / "x.jpg").symlink_to(outside)
        name = "x.jpg"
    else:
        (store.folder / "images").symlink_to(outside.parent, target_is_directory=True)
        name = "secret.jpg"
    local = tmp_path / "local"
    result = build(DownloadImage(name=name, remote_root=store.root, local_root=str(local)))
    assert not result.scheduling_succeeded
    line = _one_line(result)
    assert f"refusing {store.url('images/' + name)}" in line and "outside its root" in line
    assert files_under(local) == []


def test_a_symlink_inside_the_store_is_followed(tmp_path):
    store = FolderStore(tmp_path / "remote")
    store.put("images/real.jpg", b"inside")
    (store.folder / "images" / "alias.jpg").symlink_to("real.jpg")
    local = tmp_path / "local"
    result = build(DownloadImage(name="alias.jpg", remote_root=store.root, local_root=str(local)))
    assert result.scheduling_succeeded, explain_failures(result)
    assert (local / "images" / "alias.jpg").read_bytes() == b"inside"


def test_a_local_root_symlink_is_not_uploaded(tmp_path, outside):
    store = FolderStore(tmp_path / "remote")
    local = tmp_path / "local"
    (local / "images").mkdir(parents=True)
    (local / "images" / "x.jpg").symlink_to(outside)
    result = build(UploadImage(name="x.jpg", remote_root=store.root, local_root=str(local)))
    assert not result.scheduling_succeeded
    assert "outside its root" in _one_line(result)
    assert files_under(store.folder) == []


def test_a_cached_file_linked_out_of_the_local_root_is_not_taken_as_downloaded(tmp_path, outside):
    store = FolderStore(tmp_path / "remote")
    store.put("images/x.jpg", b"the real image")
    local = tmp_path / "local"
    (local / "images").mkdir(parents=True)
    (local / "images" / "x.jpg").symlink_to(outside)
    result = build(DownloadImage(name="x.jpg", remote_root=store.root, local_root=str(local)))
    assert "outside its root" in _one_line(result)
    assert outside.read_bytes() == SECRET


def test_a_download_never_writes_through_a_linked_cache_folder(tmp_path, outside):
    store = FolderStore(tmp_path / "remote")
    store.put("images/y.jpg", b"the real image")
    local = tmp_path / "local"
    local.mkdir()
    (local / "images").symlink_to(outside.parent, target_is_directory=True)
    result = build(DownloadImage(name="y.jpg", remote_root=store.root, local_root=str(local)))
    assert "outside its root" in _one_line(result)
    assert sorted(os.listdir(outside.parent)) == ["secret.jpg"]


def test_a_path_through_a_link_and_back_up_is_judged_by_where_it_really_leads(tmp_path, outside):
    # The quick check (by name, one lstat per part below the root) must not be fooled by
    # "link/..": by name it stays in the root, really it climbs out of the link's target.
    from csci_utils.luigi.errors import TransferError
    from csci_utils.luigi.folder_files import check_inside

    root = tmp_path / "root"
    (root / "images").mkdir(parents=True)
    (root / "deep").symlink_to(outside.parent / "below", target_is_directory=True)
    (outside.parent / "below").mkdir()
    check_inside(str(root / "images" / "x.jpg"), str(root))  # plainly below: no error
    with pytest.raises(TransferError, match="outside its root"):
        check_inside(str(root / "deep" / ".." / "secret.jpg"), str(root))
    with pytest.raises(TransferError, match="outside its root"):
        check_inside(str(root / "deep" / "x.jpg"), str(root))
