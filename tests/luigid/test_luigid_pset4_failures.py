"""A task that really fails, in a batch that two ``python -m pset_4`` processes share on luigid.

luigid retries a FAILED task after ``[scheduler] retry_delay`` (900 s by default),
and a ``keep_alive`` worker waits for that retry while a task of its batch is
pending. A failure must instead be final within the run: every process of the
batch exits promptly with the failure's code and one line naming it, and the
good results are on the remote.
"""

from __future__ import annotations

import io
import json

import pytest
from luigid_workers import start_worker
from test_luigid_pset4 import MODEL, STYLIZE, seeded_bucket, shared_luigi_cfg  # noqa: F401

from csci_utils.exit_codes import RETCODES
from fixtures.luigid import WORKER_DISCONNECT_DELAY_S, running_luigid
from pset_4.seed import copy_sample_image

GOOD = ("a.png", "b.png", "c.png")
CORRUPT = "corrupt.jpg"
PROMPTLY_S = 90  # two processes start, stylize three 96 px images and stop (2 loaded cores)
# luigid's own retry policy (retry_delay 900 s), and a short one that would rerun
# the failed task every second.
RETRY_SETTINGS = {
    "luigid defaults": "",
    "retry_delay 1 s": "retry_delay = 1\n",
}


def put_pictures(s3_server, remote_root: str) -> None:
    from PIL import Image, ImageOps

    buffer = io.BytesIO()
    copy_sample_image(buffer)
    photo = Image.open(buffer).convert("RGB")
    photo.thumbnail((96, 192))
    bucket, prefix = remote_root[len("s3://"):].split("/", 1)
    client = s3_server.client()
    for number, name in enumerate(GOOD):
        picture = ImageOps.mirror(photo) if number % 2 else photo
        body = io.BytesIO()
        picture.rotate(90 * number, expand=True).save(body, format="PNG")
        client.put_object(Bucket=bucket, Key=f"{prefix}/images/{name}", Body=body.getvalue())
    client.put_object(Bucket=bucket, Key=f"{prefix}/images/{CORRUPT}",
                      Body=b"\xff\xd8\xff\xe0 not a JPEG after all " * 40)


@pytest.mark.slow
@pytest.mark.parametrize("retry", RETRY_SETTINGS.values(), ids=RETRY_SETTINGS.keys())
def test_a_failing_task_ends_the_shared_batch_for_both_processes_promptly(
    retry, s3_server, seeded_bucket, tmp_path  # noqa: F811 - the fixture, imported
):
    put_pictures(s3_server, seeded_bucket)
    scheduler_config = (f"[scheduler]\nworker_disconnect_delay = {WORKER_DISCONNECT_DELAY_S}\n"
                        f"prune_on_get_work = true\nrecord_task_history = false\n{retry}")
    images = [GOOD[0], CORRUPT, *GOOD[1:]]
    argv = ["-m", "pset_4", *[f"--image={image}" for image in images], "-m", MODEL,
            "--style", "0", "--workers", "1", "--no-seed"]
    with running_luigid(tmp_path / "luigid", scheduler_config) as luigid:
        config = shared_luigi_cfg(luigid, s3_server, seeded_bucket, tmp_path)
        workers = [
            start_worker(luigid, tmp_path / f"machine{n}", f"pset_4-{n}",
                         [*argv, "--scheduler-url", luigid.url], config=config,
                         separate_stderr=True)
            for n in (1, 2)
        ]
        codes = [worker.wait(timeout=PROMPTLY_S) for worker in workers]
        stylize = luigid.tasks_named(STYLIZE)
        # The failure is final within that run only: a rerun on the same luigid tries
        # the task again at once (a transient failure would then pass).
        rerun = start_worker(luigid, tmp_path / "machine1", "rerun",
                             [*argv, "--scheduler-url", luigid.url, "--verbose"], config=config)
        rerun_code = rerun.wait(timeout=PROMPTLY_S)

    errors = [worker.stderr() for worker in workers]
    assert codes == [RETCODES["task_failed"]] * 2, errors
    for worker, error in zip(workers, errors):
        # stdout: one line per result and nothing else (a failed run prints no result);
        # stderr: one error line naming the corrupt image, then the run's summary line;
        # no traceback.
        assert worker.log() == ""
        first, *others = error.splitlines()
        assert first.startswith("pset_4: error: ") and CORRUPT in first, error
        assert "cannot read image" in first, error
        assert len(others) == 1 and others[0].startswith("pset_4: "), error
        assert "error" not in others[0] and "Traceback" not in error, error
    # One image per shard (4 images, [pset_4] max_shards 64): one scheduling unit each.
    statuses = {image: task["status"] for task in stylize.values()
                for image in json.loads(task["params"]["images"])}
    assert statuses == {**dict.fromkeys(GOOD, "DONE"), CORRUPT: "DISABLED"}, stylize

    bucket, prefix = seeded_bucket[len("s3://"):].split("/", 1)
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/stylized/")
    keys = sorted(item["Key"] for item in listed.get("Contents", []))
    assert [key.split("/")[-2] for key in keys] == list(GOOD), keys

    assert rerun_code == RETCODES["task_failed"], rerun.log()
    runs = [line for line in rerun.log().splitlines() if f"running   {STYLIZE}(" in line]
    assert len(runs) == 1 and CORRUPT in runs[0], rerun.log()  # the failed shard, again
