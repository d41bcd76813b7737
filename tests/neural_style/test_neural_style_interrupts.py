"""SIGTERM and SIGINT stop the CLI cleanly: temp file removed, 143 or 130, one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import luigi
import pytest
from luigi.format import Nop

from csci_utils.atomic import TMP_MARKER
from csci_utils.cli import Interrupted, stop_cleanly_on_signals
from csci_utils.luigi.target import SuffixPreservingLocalTarget


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        caught = next(line for line in status if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signum - 1)))


@pytest.fixture
def photo_256(grace_hopper_path, tmp_path):
    from PIL import Image

    path = tmp_path / "photo_256.png"
    with Image.open(grace_hopper_path) as image:
        image.convert("RGB").resize((256, 256)).save(path)
    return path


def interrupted_eval(signum: int, delay: float, photo, model, out) -> subprocess.Popen:
    """``neural_style eval``, sent ``signum`` ``delay`` s after its handler is in place."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "neural_style", "eval", "--content-image", str(photo),
         "--model", str(model), "--style", "3", "--engine", "torch",
         "--output-image", str(out / "photo.png")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not catches(cli.pid, signal.SIGTERM):  # it has begun: the handler is in place
        assert cli.poll() is None and time.monotonic() < deadline, cli.communicate()
        time.sleep(0.01)
    time.sleep(delay)
    assert cli.poll() is None
    cli.send_signal(signum)
    return cli


@pytest.mark.parametrize("delay", [0.0, 1.2], ids=["at-start", "while-loading-or-stylizing"])
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_eval_stops_cleanly_on_a_signal(signum, code, delay, photo_256, multistyle_checkpoint,
                                        tmp_path):
    out = tmp_path / "out"
    for _ in range(4):
        cli = interrupted_eval(signum, delay, photo_256, multistyle_checkpoint, out)
        stdout, stderr = cli.communicate(timeout=60)
        if not (out / "photo.png").exists():
            break
        # A whole eval of 256 px takes ~1-3 s here: this one ended before the signal
        # came (the photo is written). Send it sooner.
        (out / "photo.png").unlink()
        delay /= 2
    assert cli.returncode == code, stderr
    assert stderr.splitlines() == [
        f"neural_style: error: interrupted by {signal.Signals(signum).name}"]
    assert stdout == ""
    assert not out.exists() or os.listdir(out) == []  # no temp file, no final file


class InterruptedWhileWriting(luigi.Task):
    """Gets SIGTERM while its temp file is half written."""

    folder = luigi.Parameter()

    def output(self):
        return SuffixPreservingLocalTarget(os.path.join(self.folder, "photo.png"), format=Nop)

    def run(self):
        with self.output().temporary_path() as temporary:
            with open(temporary, "wb") as out:
                out.write(b"half")
            assert TMP_MARKER in os.listdir(self.folder)[0]
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
            raise AssertionError("the signal did not stop the task")


def test_a_signal_in_a_luigi_task_removes_its_temp_file_and_stops_the_build(tmp_path):
    with pytest.raises(Interrupted) as stopped, stop_cleanly_on_signals():
        luigi.build([InterruptedWhileWriting(folder=str(tmp_path))], local_scheduler=True,
                    workers=1, log_level="CRITICAL")
    assert stopped.value.exit_code == 143
    assert os.listdir(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was put back
