"""A run killed with SIGKILL mid-stylize leaves no output file, and a rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from PIL import Image

from sample_photos import small_photo

KILL_IMAGE = "hopper-256.png"  # big enough that stylizing outlasts the kill by far


def test_kill_9_mid_stylize_leaves_no_output_and_a_rerun_completes(store, tmp_path):
    small_photo(256).save(store / "images" / KILL_IMAGE)
    output_dir = tmp_path / "stylized"
    command = [
        sys.executable, "-m", "pset_4", "--verbose", "-i", KILL_IMAGE, "--style", "6",
        "--remote", str(store), "--local-root", str(tmp_path / "data"), "--output-dir", str(output_dir),
    ]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    try:
        deadline = time.monotonic() + 120
        for line in child.stderr:
            seen.append(line)
            if "stylizing" in line:  # logged just before the model runs
                os.killpg(child.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "the pipeline never started stylizing"
        else:
            raise AssertionError("pset_4 exited before stylizing:\n" + "".join(seen))
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    expected = output_dir / KILL_IMAGE / "multistyle26.pth--style-6.png"
    assert not expected.exists()
    # Only a *-luigi-tmp-* leftover may remain, never a file at a final path.
    leftovers = [p.name for p in output_dir.rglob("*") if p.is_file()] if output_dir.exists() else []
    assert all("-luigi-tmp-" in name for name in leftovers), leftovers

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.split() == [str(expected)]
    assert Image.open(expected).size == (256, small_photo(256).height)


def test_two_workers_stylize_a_batch_in_forked_processes_without_a_luigi_cfg(store, tmp_path):
    # A subprocess: Luigi forks per task with --workers 2, and forking this pytest
    # process (which already ran torch) is not what users run. Its working
    # directory has no luigi.cfg, so the built-in defaults must do.
    for index in range(2):
        small_photo(mirror=bool(index)).save(store / "images" / f"pair-{index}.png")
    done = subprocess.run(
        [sys.executable, "-m", "pset_4", "--workers", "2", "-i", "pair-0.png", "-i", "pair-1.png",
         "--remote", str(store), "--local-root", str(tmp_path / "data"),
         "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    outputs = done.stdout.split()
    assert len(outputs) == 2 and all(os.path.isfile(path) for path in outputs)
    assert open(outputs[0], "rb").read() != open(outputs[1], "rb").read()
