"""A silent S3 endpoint (accepts connections, never answers) and URLs with credentials."""

from __future__ import annotations

import logging
import socket
import threading
import time

import luigi.configuration
import luigi.scheduler
import pytest
from transfer_helpers import DownloadImage, build, files_under

from csci_utils.luigi import explain_failures
from csci_utils.luigi.s3_files import S3Timeouts
from csci_utils.urls import redact_userinfo
from fixtures.s3 import s3_environment


@pytest.fixture
def silent_endpoint():
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def short_timeouts():
    config = luigi.configuration.get_config()
    if not config.has_section("s3"):
        config.add_section("s3")
    values = {"connect_timeout": "1", "read_timeout": "1", "max_attempts": "2"}
    for name, value in values.items():
        config.set("s3", name, value)
    yield S3Timeouts()
    for name in values:
        config.remove_option("s3", name)


def test_the_default_timeouts_give_up_within_a_minute():
    assert S3Timeouts().bound() <= 60


def test_a_silent_endpoint_gives_up_within_the_bound_with_one_line(
        silent_endpoint, short_timeouts, tmp_path):
    with s3_environment(silent_endpoint):
        started = time.monotonic()
        result = build(
            DownloadImage(name="a.jpg", remote_root="s3://bucket/x", local_root=str(tmp_path)),
            DownloadImage(name="b.jpg", remote_root="s3://bucket/x", local_root=str(tmp_path)),
        )
        elapsed = time.monotonic() - started
    # Two files, but the second one does not wait again for the endpoint that said nothing.
    assert elapsed < short_timeouts.bound() + 3, elapsed
    lines = explain_failures(result)
    assert lines and all("did not answer" in line for line in lines), lines
    expected = f"the S3 endpoint {silent_endpoint} did not answer for s3://bucket/x/images/a.jpg"
    assert expected in lines[0]
    assert files_under(tmp_path) == []


def test_credentials_in_the_endpoint_url_are_never_printed(
        silent_endpoint, short_timeouts, tmp_path):
    host = silent_endpoint.split("://")[1]
    with s3_environment(f"http://KEYID:TOPSECRET@{host}"):
        result = build(DownloadImage(name="a.jpg", remote_root="s3://bucket/x",
                                     local_root=str(tmp_path)))
    [line] = explain_failures(result)
    assert "TOPSECRET" not in line and "KEYID" not in line
    assert f"http://***@{host}" in line


def test_redact_userinfo():
    assert redact_userinfo("at https://u:p@h:1/x, s3://b/k") == "at https://***@h:1/x, s3://b/k"


def test_the_pipeline_cli_gives_up_on_a_silent_endpoint_with_one_redacted_line(
        silent_endpoint, short_timeouts, tmp_path, capsys):
    from pset_4 import cli

    host = silent_endpoint.split("://")[1]
    started = time.monotonic()
    with s3_environment(f"http://KEYID:TOPSECRET@{host}"):
        code = cli.main(["--remote", "s3://bucket/x", "--no-seed", "--local-root",
                         str(tmp_path / "data"), "--output-dir", str(tmp_path / "out")])
    assert time.monotonic() - started < short_timeouts.bound() + 5
    [line] = capsys.readouterr().err.splitlines()
    assert code != 0 and line.startswith("pset_4: error: ") and "did not answer" in line, line
    assert "TOPSECRET" not in line and f"http://***@{host}" in line


class _RecordingScheduler(luigi.scheduler.Scheduler):
    """The local scheduler, keeping every status message it was sent (luigid shows them)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[str] = []

    def set_task_status_message(self, task_id, status_message):
        self.messages.append(status_message)
        return super().set_task_status_message(task_id, status_message)


def test_a_download_stalled_by_a_silent_endpoint_says_so_while_waiting(
        s3_server, short_timeouts, tmp_path, caplog):
    """The endpoint answers the HEAD, then goes silent on the GET (the fault proxy)."""
    from transfer_helpers import S3Store, SchedulerKeepingFactory

    from fixtures.fault_proxy import FaultProxy

    store = S3Store(s3_server)
    store.put("images/a.jpg", b"x" * 1000)
    proxy = FaultProxy(s3_server.endpoint_url)
    proxy.fault = "silent-get"
    factory = SchedulerKeepingFactory()
    factory.scheduler = _RecordingScheduler()
    log = logging.getLogger("luigi-interface")  # luigi may stop it propagating to caplog's
    level = log.level  # and an in-process CLI run quietens it
    log.addHandler(caplog.handler)
    log.setLevel(logging.WARNING)
    try:
        with s3_environment(proxy.endpoint_url):
            started = time.monotonic()
            result = build(DownloadImage(name="a.jpg", remote_root=store.root,
                                         local_root=str(tmp_path)), factory=factory)
            elapsed = time.monotonic() - started
    finally:
        proxy.stop()
        log.removeHandler(caplog.handler)
        log.setLevel(level)
    bound = short_timeouts.bound()
    assert ("HEAD", f"/{store.bucket}/shared/images/a.jpg") in proxy.requests
    assert elapsed < bound + 3, elapsed
    url = store.url("images/a.jpg")
    stalled = [m for m in factory.scheduler.messages if "no progress" in m]
    assert stalled and stalled[0] == (f"downloading {url}: no progress for 2 s, waiting for "
                                      f"the remote, giving up after {bound:g} s"), stalled
    assert any("no progress for 2 s, still waiting" in r.getMessage() for r in caplog.records)
    [line] = explain_failures(result)
    assert "did not answer" in line and url in line, line
    assert files_under(tmp_path) == []
