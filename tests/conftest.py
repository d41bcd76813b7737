"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from fixtures.filesystems import full_disk, read_only_disk  # noqa: F401  (tmpfs mounts)
from fixtures.luigid import luigid_server  # noqa: F401  (a real luigid on 127.0.0.1)
from fixtures.s3 import S3Server, s3_environment, start_s3_server


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory):
    """neural_style's ONNX cache in a session folder, not the user's ~/.cache;
    subprocesses (python -m neural_style / pset_4) inherit it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEURAL_STYLE_CACHE", str(tmp_path_factory.mktemp("onnx-cache")))
        yield


@pytest.fixture(scope="session")
def _moto_server():
    server = start_s3_server()
    yield server
    server.stop()


@pytest.fixture
def s3_server(_moto_server) -> S3Server:
    """A real S3 endpoint on 127.0.0.1 (moto over HTTP), empty at the start of each test.

    While the test runs, AWS_ENDPOINT_URL_S3, dummy credentials and luigi's
    ``[s3] endpoint_url`` point at it. ``s3_server.endpoint_url`` is its URL,
    ``s3_server.create_bucket()`` makes a bucket, ``s3_server.client()`` is a boto3 client.
    """
    with s3_environment(_moto_server.endpoint_url):
        yield _moto_server
    _moto_server.reset()
