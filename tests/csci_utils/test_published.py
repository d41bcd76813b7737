"""Tasks whose results live on the remote: done means on it; a failed upload leaves nothing."""

from __future__ import annotations

from pathlib import Path

import luigi
from transfer_helpers import S3Store, build, files_under

from csci_utils.luigi import Published, explain_failures
from fixtures.fault_proxy import FaultProxy
from fixtures.s3 import s3_environment

Status = luigi.execution_summary.LuigiStatusCode


class Shout(Published, luigi.Task):
    SHARED_RELATIVE_PATH = "results"
    made = 0

    def run(self):
        def make(path: str) -> None:
            type(self).made += 1
            Path(path).write_bytes(self.name.upper().encode())

        self.publish(make)


def test_a_result_is_on_the_remote_and_done_for_a_machine_without_a_copy(store, tmp_path):
    first = Shout(remote_root=store.root, local_root=str(tmp_path / "machine-1"), name="hello.txt")
    assert build(first).status == Status.SUCCESS
    assert store.get("results/hello.txt") == b"HELLO.TXT"
    assert Path(first.cache_output().path).read_bytes() == b"HELLO.TXT"
    # Another machine (another local root, empty) sees it done: the truth is the remote.
    second = Shout(remote_root=store.root, local_root=str(tmp_path / "machine-2"), name="hello.txt")
    assert second.complete() and files_under(tmp_path / "machine-2") == []


def test_a_failed_result_upload_is_not_done_leaves_no_object_and_a_rerun_completes(
    s3_server, tmp_path
):
    store = S3Store(s3_server)
    proxy = FaultProxy(s3_server.endpoint_url)
    try:
        with s3_environment(proxy.endpoint_url):
            proxy.fault, proxy.match = "fail-put", "/results/"
            task = Shout(remote_root=store.root, local_root=str(tmp_path / "local"), name="r.txt")
            Shout.made = 0
            result = build(task)
            assert result.status == Status.FAILED
            assert store.url("results/r.txt") in explain_failures(result)[0]
            assert not task.complete()
            assert store.client.list_objects_v2(Bucket=store.bucket).get("KeyCount") == 0
            assert any(method == "PUT" for method, _ in proxy.requests)  # it did try

            proxy.fault = None
            assert build(task).status == Status.SUCCESS
            assert store.get("results/r.txt") == b"R.TXT"
            assert Shout.made == 1  # the rerun only uploaded this machine's copy
    finally:
        proxy.stop()
