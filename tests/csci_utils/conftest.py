"""Fixtures shared by the transfer tests: every behaviour runs on both kinds of remote root."""

from __future__ import annotations

import pytest
from transfer_helpers import FolderStore, S3Store


@pytest.fixture(params=["s3", "folder"])
def store(request, tmp_path):
    """The remote root: moto's S3 over HTTP on 127.0.0.1, or a local folder."""
    if request.param == "s3":
        return S3Store(request.getfixturevalue("s3_server"))
    return FolderStore(tmp_path / "remote")


@pytest.fixture
def local_root(tmp_path):
    return tmp_path / "local"
