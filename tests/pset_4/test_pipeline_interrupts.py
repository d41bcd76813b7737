"""SIGTERM or Ctrl-C on ``python -m pset_4``: temp files removed, exit 143 or 130, one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image
from sample_photos import small_photo

from csci_utils.atomic import TMP_MARKER
from fixtures.processes import alive, assert_stopped_cleanly, catches, children, runs

IMAGES = [f"hopper-{n}.png" for n in range(16)]  # a batch that outlasts the signal

# The pipeline at a lower CPU priority (nice execs it: same pid). Its inference threads fill
# both cores, and at equal priority they kept this test from polling for longer than the rest
# of the batch took (on CI the signal came after all 8 images were done).
LOWER_PRIORITY = ["nice", "-n", "10"]


def files_under(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_the_pipeline_stops_cleanly_on_a_signal_mid_run(signum, code, store, tmp_path):
    for image in IMAGES:
        small_photo(256).save(store / "images" / image)
    local_root, output_dir = tmp_path / "data", tmp_path / "stylized"
    cli = subprocess.Popen(
        [*LOWER_PRIORITY, sys.executable, "-m", "pset_4", *(f"-i={image}" for image in IMAGES),
         "--style", "6", "--remote", str(store), "--local-root", str(local_root),
         "--output-dir", str(output_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Once the first result is in place the batch is mid-run: the next image is on its way.
    while not files_under(output_dir) or any(TMP_MARKER in f for f in files_under(output_dir)):
        assert cli.poll() is None and time.monotonic() < deadline, cli.communicate()
        time.sleep(0.005)
    cli.send_signal(signum)
    assert_stopped_cleanly(cli, signum, "pset_4")
    assert cli.returncode == code
    results = files_under(output_dir)
    assert not [name for name in results if TMP_MARKER in name]
    assert 1 <= len(results) < len(IMAGES)  # stopped mid-batch
    for result in results:  # what sits at a final path is a whole image
        with Image.open(result) as image:
            image.load()
    assert not [name for name in files_under(local_root) if TMP_MARKER in name]


def _start_option_a(store, tmp_path):
    """``python -m pset_4 --option A`` on one 256 px image; returns (cli, its eval child),
    once the child has its own SIGTERM handler (it is loading or stylizing)."""
    small_photo(256).save(store / "images" / IMAGES[0])
    cli = subprocess.Popen(
        [sys.executable, "-m", "pset_4", "-i", IMAGES[0], "--style", "6", "--option", "A",
         "--remote", str(store), "--local-root", str(tmp_path / "data"),
         "--output-dir", str(tmp_path / "stylized")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        assert cli.poll() is None and time.monotonic() < deadline, cli.communicate()
        started = children(cli.pid)
        try:
            if started and runs(started[0], "neural_style") and catches(started[0],
                                                                        signal.SIGTERM):
                return cli, started[0]
        except FileNotFoundError:
            pass
        time.sleep(0.005)


def _no_temp_files(tmp_path):
    return not [name for name in files_under(tmp_path) if TMP_MARKER in name]


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_option_a_stops_its_child_cleanly_on_a_signal(signum, code, store, tmp_path):
    cli, child = _start_option_a(store, tmp_path)
    cli.send_signal(signum)  # to the pipeline only: it passes SIGTERM on and waits
    assert_stopped_cleanly(cli, signum, "pset_4")
    assert cli.returncode == code and not alive(child)
    assert _no_temp_files(tmp_path) and not files_under(tmp_path / "stylized")


def test_a_killed_pipeline_leaves_no_child_running(store, tmp_path):
    cli, child = _start_option_a(store, tmp_path)
    cli.kill()  # SIGKILL: no handler runs in the pipeline; the kernel tells the child
    cli.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, f"neural_style eval {child} outlived its parent"
        time.sleep(0.01)
    assert _no_temp_files(tmp_path)  # the child removed its own temp file on the way out


def test_option_a_under_luigi_build_stops_its_child_on_sigterm(store, tmp_path):
    """The same through luigi.build: the interrupt leaves luigi.build, the child is gone."""
    import threading

    import luigi

    from csci_utils.cli import Interrupted, stop_cleanly_on_signals
    from csci_utils.luigi import remote_target, resolve
    from pset_4.tasks.stylize import StylizeProgram

    small_photo(256).save(store / "images" / IMAGES[0])
    identities = {f"{kind}_identity": resolve(remote_target(str(store), path)).identity
                  for kind, path in (("image", f"images/{IMAGES[0]}"),
                                     ("model", "saved_models/multistyle26.pth"))}
    task = StylizeProgram(image=IMAGES[0], model="multistyle26.pth", style=6, **identities,
                          remote_root=str(store), local_root=str(tmp_path / "data"),
                          output_dir=str(tmp_path / "stylized"))
    signalled = []

    def signal_once_the_child_runs():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for child in children(os.getpid()):
                try:
                    if runs(child, "neural_style") and catches(child, signal.SIGTERM):
                        signalled.append(child)
                        os.kill(os.getpid(), signal.SIGTERM)
                        return
                except FileNotFoundError:
                    pass
            time.sleep(0.005)

    watcher = threading.Thread(target=signal_once_the_child_runs, daemon=True)
    with pytest.raises(Interrupted), stop_cleanly_on_signals():
        watcher.start()
        luigi.build([task], local_scheduler=True)
    watcher.join()
    assert signalled and not alive(signalled[0])
    assert _no_temp_files(tmp_path) and not task.output().exists()
