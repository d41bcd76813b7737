"""Batches of many images: patterns for -i, shards, a bad image among good ones, reruns."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import luigi.configuration
import pytest
from sample_photos import small_photo

from csci_utils.luigi import BatchProgress
from fixtures.processes import kill_group_when


@pytest.fixture
def one_shard():
    """luigi.cfg ``[pset_4] max_shards = 1``: a whole batch is one scheduling unit."""
    config = luigi.configuration.get_config()
    had = config.has_option("pset_4", "max_shards")
    config.set("pset_4", "max_shards", "1")
    yield
    if not had:
        config.remove_option("pset_4", "max_shards")


def add_photos(store, names, size=64):
    for index, name in enumerate(names):
        small_photo(size).rotate(index * 9).save(store / "images" / name)


def results(store) -> list[str]:
    folder = store / "stylized"
    return sorted(p.parent.name for p in folder.rglob("*") if p.is_file()) if folder.exists() \
        else []


def test_a_pattern_picks_the_matching_images(store, run_cli):
    add_photos(store, ["trip-1.png", "trip-2.png", "home.png"])
    code, paths, err = run_cli("-i", "trip-*", "-i", "home.png", remote=store)
    assert code == 0, err
    assert len(paths) == 3
    assert [path.split("/")[-2] for path in paths] == [
        "trip-1.png", "trip-2.png", "home.png"]
    assert results(store) == ["home.png", "trip-1.png", "trip-2.png"]


def test_a_pattern_that_matches_nothing_is_one_line_and_exit_20(store, run_cli):
    code, paths, err = run_cli("-i", "*.gif", remote=store)
    assert code == 20 and paths == []
    [line] = err.strip().splitlines()
    assert line.startswith("pset_4: error: missing on the remote: no image matches '*.gif'")
    assert not (store / "stylized").exists()


def test_patterns_and_names_on_s3_take_one_listing_and_no_request_per_image(
    s3_server, tmp_path, run_cli, caplog
):
    import io

    remote = f"s3://{s3_server.create_bucket()}/p"
    code, _, err = run_cli("--seed", "--content-scale", "8", remote=remote)  # sample + model
    assert code == 0, err
    client = s3_server.client()
    bucket = remote[len("s3://"):].split("/")[0]
    for index in range(5):
        body = io.BytesIO()
        small_photo(64).rotate(index * 7).save(body, format="PNG")
        client.put_object(Bucket=bucket, Key=f"p/images/batch-{index}.png", Body=body.getvalue())
    caplog.set_level(logging.INFO, logger="werkzeug")
    caplog.clear()
    code, paths, err = run_cli("-i", "batch-*.png", remote=remote, output_dir=tmp_path / "out")
    assert code == 0, err
    assert len(paths) == 5
    log = [record.getMessage() for record in caplog.records]
    image_lists = [line for line in log if "list-type=2" in line and "images" in line]
    assert len(image_lists) == 1, log
    assert not [line for line in log if '"HEAD /' in line and "/images/" in line], log
    assert len([line for line in log if '"GET /' in line and "/images/batch-" in line]) == 5


@pytest.mark.parametrize("option", ["A", "B"])
def test_a_corrupt_image_in_a_shard_fails_only_itself(store, run_cli, one_shard, option):
    add_photos(store, ["a.png", "b.png", "d.png"])
    (store / "images" / "c.png").write_bytes(b"this is not a picture")
    code, paths, err = run_cli("-i", "*.png", "--option", option, remote=store)
    assert code == 30  # luigi.cfg [retcode] task_failed
    line, summary = err.strip().splitlines()
    assert line.startswith("pset_4: error: 1 of 5 results failed: c.png with multistyle26.pth")
    # The summary counts per image inside the shard, and names the bad one.
    assert summary.startswith("pset_4: 4 stylized, 0 already done, 1 failed (c.png) in ")
    assert "Traceback" not in err
    # Its batch-mates (the small sample included) were made and are on the remote.
    assert results(store) == ["a.png", "b.png", "d.png", "hopper-96.png"]
    assert not [p for p in (store / "stylized").rglob("*") if "-luigi-tmp-" in p.name]


def test_a_rerun_after_a_kill_makes_only_the_missing_images(store, tmp_path):
    names = [f"k-{index}.png" for index in range(6)]
    add_photos(store, names, size=160)
    config = tmp_path / "luigi.cfg"
    config.write_text("[pset_4]\nmax_shards = 1\n")  # one shard: the kill lands inside it
    command = [sys.executable, "-m", "pset_4", "--verbose", "-i", "k-*.png",
               "--remote", str(store), "--local-root", str(tmp_path / "data"),
               "--output-dir", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LUIGI_CONFIG_PATH": str(config)}
    made = 0

    def mid_way_through_the_third(line: str) -> bool:
        nonlocal made
        made += "on the remote" in line
        return made >= 2 and ": stylizing" in line

    kill_group_when(command, env, mid_way_through_the_third)
    made_files = [p for p in (store / "stylized").rglob("*") if p.is_file()]
    # Whole results only at final paths; a copy killed on its way up is a temp file.
    before = {p: p.stat().st_mtime_ns for p in made_files if "-luigi-tmp-" not in p.name}
    assert 2 <= made <= len(before) < 6
    assert all(p.suffix == ".png" for p in before)

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert len(rerun.stdout.splitlines()) == 6
    assert results(store) == names  # and the dead run's temp files were swept
    stylized = len(re.findall(r": stylizing \d+x\d+", rerun.stderr))
    assert 1 <= stylized <= 6 - len(before)  # only the missing (fewer: a local copy was made)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # the made ones untouched
    # The summary counts per image inside the one shard.
    summary = re.search(r"pset_4: (\d+) stylized, (\d+) already done, 0 failed in ",
                        rerun.stderr.strip().splitlines()[-1])
    assert summary and int(summary[1]) == 6 - len(before) and int(summary[2]) == len(before)


class _Scheduler:
    """What a luigi task's progress calls reach: the last percentage and message."""

    def __init__(self):
        self.updates = []

    def set_progress_percentage(self, percentage):
        self.updates.append(("percentage", percentage))

    def set_status_message(self, message):
        self.updates.append(("message", message))


def test_batch_progress_counts_files_and_holds_back_updates():
    task = _Scheduler()
    progress = BatchProgress(task, total=4, interval=60)
    progress.set_status_message("a.png: stylizing")  # the first update goes through
    progress.set_progress_percentage(50)  # a file's own percentage is not the batch's
    progress.file_done()
    progress.file_done("skipped")
    progress.file_done("failed")
    assert task.updates == [("percentage", 0), ("message", "0/4 (0 failed): a.png: stylizing")]
    progress.file_done()
    progress.finish()
    assert task.updates[-2:] == [
        ("percentage", 100),
        ("message", "4 of 4 finished: 2 made, 1 already there, 1 failed; last: a.png: stylizing"),
    ]
