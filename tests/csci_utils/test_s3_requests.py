"""The S3 request floor: one boto3 client per process and settings; an upload is one PUT
verified from its answer, and a corrupted or missing object is still caught."""

from __future__ import annotations

import os

from transfer_helpers import S3Store

from csci_utils.luigi.s3_files import S3FileTarget
from fixtures.s3 import s3_environment, start_s3_server


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
