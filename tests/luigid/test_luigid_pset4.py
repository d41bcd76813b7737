"""`python -m pset_4` on luigid: two worker processes share one stylize batch on S3.

Both processes read the same worker luigi.cfg (scheduler URL, [pset_4] roots,
[s3] endpoint), as two machines would, so they schedule identical tasks and
luigid hands each one out once. S3 is moto's server on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import luigi
import pytest
from luigid_browser import require_chromium, visualiser_page
from luigid_workers import start_worker
from PIL import Image

from pset_4.tasks.data import DownloadImage, DownloadModel, SeedStore
from pset_4.tasks.stylize import StylizeShard

IMAGE = "grace_hopper.jpg"  # seeded from matplotlib's sample data
MODEL = "multistyle26.pth"
STYLES = range(6)
CONTENT_SCALE = 4  # 512x600 px -> 128x150 px: quick on 2 cores
BATCH_ARGV = ["-m", "pset_4", "-i", IMAGE, "-m", MODEL, *[f"--style={k}" for k in STYLES],
              "--content-scale", str(CONTENT_SCALE), "--workers", "1", "--no-seed", "--verbose"]
# Luigi reports tasks that the other process ran as "not granted run permission"
# (LuigiStatusCode.NOT_RUN); pset_4 still exits 0 because every output it asked for exists.
SHARED_OK = {0}
# "pset_4.StylizeShard": luigid lists tasks by family. One image, six styles: six shards.
STYLIZE = StylizeShard.get_task_family()
DOWNLOADS = {DownloadImage.get_task_family(), DownloadModel.get_task_family()}
SUMMARY_LINE = re.compile(r"^pset_4: (\d+) stylized, (\d+) already done, (\d+) failed"
                          r"(?:, (\d+) by other workers)? in [\d.]+ s$", re.MULTILINE)
RUNNING_LINE = re.compile(rf"Worker\(.*\) running   ({re.escape(STYLIZE)}\(.*\))$", re.MULTILINE)


@pytest.fixture
def seeded_bucket(s3_server, tmp_path) -> str:
    """An S3 root on moto holding the sample photo and the converted bundled model."""
    remote_root = f"s3://{s3_server.create_bucket()}/pset_4"
    assert luigi.build(
        [SeedStore(remote_root=remote_root, local_root=str(tmp_path / "seed-cache"))],
        local_scheduler=True,
    )
    return remote_root


def shared_luigi_cfg(server, s3_server, remote_root, tmp_path):
    return server.worker_config(tmp_path, extra=f"""
[s3]
endpoint_url = {s3_server.endpoint_url}

[pset_4]
remote_root = {remote_root}
local_root = {tmp_path / "data"}
output_dir = {tmp_path / "stylized"}
""")


def runs_in(log: str) -> int:
    return len(RUNNING_LINE.findall(log))


def test_two_processes_share_a_stylize_batch_each_task_runs_once(
    luigid_server, s3_server, seeded_bucket, tmp_path
):
    config = shared_luigi_cfg(luigid_server, s3_server, seeded_bucket, tmp_path)
    # One process names luigid on the command line, the other finds it in luigi.cfg
    # ([core] default_scheduler_url); had it fallen back to a local scheduler, it
    # would run the whole batch again and the run counts below would show it.
    argvs = {1: [*BATCH_ARGV, "--scheduler-url", luigid_server.url], 2: BATCH_ARGV}
    workers = [
        start_worker(luigid_server, tmp_path / f"machine{n}", f"pset_4-{n}", argv, config=config,
                     separate_stderr=True)
        for n, argv in argvs.items()
    ]

    codes = [worker.wait(timeout=120) for worker in workers]
    logs = [worker.stderr() for worker in workers]  # --verbose: luigi's log

    # Neither process exits 25 (or anything else) while the other still works.
    assert set(codes) <= SHARED_OK, "\n".join(logs)
    # stdout: one line per result, naming it on the remote (and its local copy
    # where this machine has one), and nothing else; the same results for both.
    printed = [worker.log().splitlines() for worker in workers]
    urls = [sorted(line.split("\t")[0] for line in lines) for lines in printed]
    assert len(printed[0]) == len(printed[1]) == len(STYLES) and urls[0] == urls[1], printed
    assert all(url.startswith(f"{seeded_bucket}/stylized/{IMAGE}/") for url in urls[0]), urls
    for lines in printed:
        assert all(len(line.split("\t")) in (1, 2) for line in lines), lines
    tasks = luigid_server.tasks()
    assert {task["status"] for task in tasks.values()} == {"DONE"}, tasks
    stylize = [task for task in tasks.values() if task["name"] == STYLIZE]
    assert sorted(int(json.loads(task["params"]["styles"])[0]) for task in stylize) == list(STYLES)
    assert all(
        task["time_running"] is not None for task in stylize
    )  # ran under luigid, not found done
    # Progress as the visualiser shows it: Stylize's message names image, model and size,
    # downloads report a percentage as they copy.
    size = f"{512 // CONTENT_SCALE}x{600 // CONTENT_SCALE}"
    for task in stylize:
        assert task["progress_percentage"] == 100, task
        assert all(part in task["status_message"] for part in (IMAGE, MODEL, size)), task
    # Inputs are fetched inside Stylize, into the cache of whichever machine runs it:
    # luigid never counts a local download done for a machine that lacks the file.
    assert not [task for task in tasks.values() if task["name"] in DOWNLOADS]
    bucket, prefix = seeded_bucket[len("s3://"):].split("/", 1)
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/stylized/")
    assert listed.get("KeyCount") == len(STYLES)  # every result is on the remote

    # Each Stylize ran exactly once across both processes (luigi logs every run).
    runs = Counter(run for log in logs for run in RUNNING_LINE.findall(log))
    assert len(runs) == len(STYLES) and set(runs.values()) == {1}, runs
    # Each command line's summary is its own view: what it stylized, what it found done,
    # and the rest made by the other process; together they made each result once.
    views = [[int(n or 0) for n in SUMMARY_LINE.search(log).groups()] for log in logs]
    assert sum(stylized for stylized, _, _, _ in views) == len(STYLES), views
    assert all(view[2] == 0 and sum(view) == len(STYLES) for view in views), views
    assert all(stylized == runs_in(log) for (stylized, *_), log in zip(views, logs)), views

    outputs = sorted(path for path in (tmp_path / "stylized").rglob("*.png") if path.is_file())
    assert len(outputs) == len(STYLES), outputs
    for output in outputs:
        with Image.open(output) as image:
            image.verify()
    with Image.open(outputs[0]) as image:
        assert image.size == (512 // CONTENT_SCALE, 600 // CONTENT_SCALE)
    assert not list((tmp_path / "stylized").rglob("*-luigi-tmp-*"))

    # The visualiser of the same luigid lists the six Stylize tasks.
    require_chromium()
    from playwright.sync_api import expect

    with visualiser_page(luigid_server.url, tmp_path / "chromium-profile") as page:
        page.select_option("select[name=taskTable_length]", "100")
        name_is_stylize = page.locator("td", has_text=re.compile(rf"^\s*{re.escape(STYLIZE)}\s*$"))
        stylize_rows = page.locator("#taskTable tbody tr").filter(has=name_is_stylize)
        expect(stylize_rows).to_have_count(len(STYLES))
        expect(stylize_rows.filter(has_text="DONE")).to_have_count(len(STYLES))
        page.screenshot(path=tmp_path / "visualiser-stylize.png", full_page=True)
    assert (tmp_path / "visualiser-stylize.png").stat().st_size > 0
