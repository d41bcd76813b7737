"""A run killed with SIGKILL mid-stylize leaves no output file, and a rerun completes."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from PIL import Image
from sample_photos import small_photo

from fixtures.processes import kill_group_when

KILL_IMAGE = "hopper-256.png"  # big enough that stylizing outlasts the kill by far


def test_kill_9_mid_stylize_leaves_no_output_and_a_rerun_completes(store, tmp_path):
    small_photo(256).save(store / "images" / KILL_IMAGE)
    output_dir = tmp_path / "stylized"
    command = [
        sys.executable,
        "-m",
        "pset_4",
        "--verbose",
        "-i",
        KILL_IMAGE,
        "--style",
        "6",
        "--remote",
        str(store),
        "--local-root",
        str(tmp_path / "data"),
        "--output-dir",
        str(output_dir),
    ]
    # "stylizing" is logged just before the model runs.
    kill_group_when(command, {**os.environ, "PYTHONUNBUFFERED": "1"},
                    lambda line: "stylizing" in line)

    # Nothing on the remote, and only a *-luigi-tmp-* leftover may remain locally.
    assert not (store / "stylized").exists() or not any(
        p.is_file() for p in (store / "stylized").rglob("*")
    )
    leftovers = (
        [p.name for p in output_dir.rglob("*") if p.is_file()] if output_dir.exists() else []
    )
    assert all("-luigi-tmp-" in name for name in leftovers), leftovers

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    [(remote, local)] = [line.split("\t") for line in rerun.stdout.splitlines()]
    assert remote.startswith(str(store / "stylized" / KILL_IMAGE / "multistyle26.pth--style-6--"))
    assert open(remote, "rb").read() == open(local, "rb").read()
    assert Image.open(local).size == (256, small_photo(256).height)


def _run_batch(store, tmp_path, images, workers):
    """``python -m pset_4 --verbose`` in a subprocess: (its pid, output paths, stderr)."""
    command = [sys.executable, "-m", "pset_4", "--verbose", "--workers", str(workers),
               "--remote", str(store), "--local-root", str(tmp_path / f"data-{workers}"),
               "--output-dir", str(tmp_path / f"out-{workers}")]
    for image in images:
        command += ["-i", image]
    # Its working directory has no luigi.cfg, so the built-in defaults must do.
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        out, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    return child.pid, [line.split("\t")[-1] for line in out.splitlines()], err  # local copies


def test_two_workers_run_a_batch_in_forked_children_that_reuse_the_parents_model(store, tmp_path):
    # A subprocess: Luigi forks per task with --workers 2, and forking this pytest
    # process (which already ran torch) is not what users run.
    images = [f"batch-{index}.png" for index in range(3)]
    for index, image in enumerate(images):
        small_photo(96 + 16 * index, mirror=bool(index % 2)).save(store / "images" / image)

    parent, outputs, log = _run_batch(store, tmp_path, images, workers=2)

    # luigi logs "[pid N] Worker ... running pset_4.StylizeShard(...)" from the process that runs
    # the task.
    runners = {
        int(pid)
        for pid in re.findall(r"\[pid (\d+)\] Worker .* running +pset_4\.StylizeShard\(", log)
    }
    assert len(runners) == 3 and parent not in runners, log  # one forked child per image
    loads = re.findall(r"loading model \S+ style 0 in process (\d+)", log)
    assert loads == [str(parent)], log  # loaded once, in the parent; no child loaded its own

    _, reference, _ = _run_batch(store, tmp_path, images, workers=1)
    assert len(outputs) == len(reference) == 3
    assert [open(path, "rb").read() for path in outputs] == [
        open(path, "rb").read() for path in reference
    ]
    assert len({open(path, "rb").read() for path in outputs}) == 3
