"""SIGTERM or Ctrl-C on ``python -m pset_4``: temp files removed, exit 143 or 130, one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from sample_photos import small_photo

from csci_utils.atomic import TMP_MARKER

IMAGE = "hopper-256.png"


def files_under(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# Option A under SIGTERM: luigi's ExternalProgramRunContext replaces our handler while
# the child runs; it SIGKILLs the child and raises SystemExit(143), which luigi's worker
# turns into a failed task (exit 30). The fix belongs in pset_4/tasks/stylize.py
# (StylizeProgram runs its own child, terminates it and dies-with-parent); not done yet.
OPTION_A_SIGTERM = pytest.mark.xfail(strict=True, reason="issue 17: option A under SIGTERM")


@pytest.mark.parametrize("signum, code, option", [
    (signal.SIGTERM, 143, "B"), (signal.SIGINT, 130, "B"),
    pytest.param(signal.SIGTERM, 143, "A", marks=OPTION_A_SIGTERM), (signal.SIGINT, 130, "A"),
])
def test_the_pipeline_stops_cleanly_on_a_signal_mid_run(signum, code, option, store, tmp_path):
    small_photo(256).save(store / "images" / IMAGE)
    local_root, output_dir = tmp_path / "data", tmp_path / "stylized"
    cli = subprocess.Popen(
        [sys.executable, "-m", "pset_4", "-i", IMAGE, "--style", "6", "--option", option,
         "--remote", str(store), "--local-root", str(local_root), "--output-dir", str(output_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Once the photo is downloaded the stylize task has begun (it loads the model).
    while not any(IMAGE in name and TMP_MARKER not in name for name in files_under(local_root)):
        assert cli.poll() is None and time.monotonic() < deadline, cli.communicate()
        time.sleep(0.01)
    time.sleep(0.5)  # option A: its neural_style child has started
    cli.send_signal(signum)
    stdout, stderr = cli.communicate(timeout=60)
    assert cli.returncode == code, stderr
    assert stderr.splitlines() == [f"pset_4: error: interrupted by {signal.Signals(signum).name}"]
    assert stdout == ""
    assert files_under(output_dir) == []  # no temp file, no final file
    assert not [name for name in files_under(local_root) if TMP_MARKER in name]
