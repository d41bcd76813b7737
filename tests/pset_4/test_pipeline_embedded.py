"""The pipeline end to end on the embedded store (a local folder as the remote)."""

from __future__ import annotations

import re
import shutil

import luigi
import pytest
from PIL import Image, ImageChops, ImageStat
from sample_photos import SMALL_IMAGE, small_photo

from pset_4 import model_cache
from pset_4.tasks.data import SeedStore
from pset_4.tasks.stylize import StylizeAll

RAN: list[luigi.Task] = []


@luigi.Task.event_handler(luigi.Event.SUCCESS)
def _record_run(task):
    RAN.append(task)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def test_fresh_machine_seeds_the_store_and_ends_with_a_stylized_image(tmp_path, run_cli):
    remote = tmp_path / "empty-remote"
    # The seeded photo is 512x600; a content scale keeps this test small and fast.
    code, paths, err = run_cli("--content-scale", "5", remote=remote)
    assert code == 0, err
    assert (remote / "images" / "grace_hopper.jpg").is_file()
    assert (remote / "saved_models" / "multistyle26.pth").is_file()
    # The pipeline read the inputs back from the remote into the local cache.
    # (keyed on the remote root and the content identity: data/<root>/images/<identity>/...)
    assert [p.name for p in (tmp_path / "data").rglob("images/*/grace_hopper.jpg")] == [
        "grace_hopper.jpg"
    ]
    assert [p.name for p in (tmp_path / "data").rglob("saved_models/*/multistyle26.pth")] == [
        "multistyle26.pth"
    ]
    [output] = paths
    assert re.search(
        r"/stylized/grace_hopper.jpg/multistyle26.pth--style-0--scale-5--[0-9a-f]{10}\.png$", output
    )
    # The result is on the remote; the printed local path is this machine's copy of it.
    [remote_copy] = (remote / "stylized" / "grace_hopper.jpg").iterdir()
    assert remote_copy.read_bytes() == open(output, "rb").read()
    result = Image.open(output)
    assert result.format == "PNG"
    content = Image.open(remote / "images" / "grace_hopper.jpg").convert("RGB")
    content = content.resize(result.size)
    assert mean_difference(result, content) > 20  # of 255: restyled, not copied


def test_seeding_works_when_another_module_has_an_uploadimage_task(seeded_store, tmp_path):
    from csci_utils.luigi import Upload

    class UploadImage(Upload):  # noqa: F841 - registering the clashing name is the point
        SHARED_RELATIVE_PATH = "images"

    # Staged seeds already exist, so only the (dynamic) uploads run.
    local = tmp_path / "data"
    shutil.copytree(seeded_store / "images", local / "seed" / "images")
    shutil.copytree(seeded_store / "saved_models", local / "seed" / "saved_models")
    remote = tmp_path / "fresh-remote"
    result = luigi.build([SeedStore(remote_root=str(remote), local_root=str(local))],
                         local_scheduler=True, detailed_summary=True)
    assert result.status == luigi.execution_summary.LuigiStatusCode.SUCCESS, result.summary_text
    assert (remote / "images" / "grace_hopper.jpg").read_bytes() == (
        seeded_store / "images" / "grace_hopper.jpg").read_bytes()


def test_options_a_and_b_write_byte_identical_files(store, tmp_path, run_cli):
    outputs = {}
    for option in ("A", "B"):
        remote = tmp_path / f"remote-{option}"  # one remote each: a result on one is done for both
        shutil.copytree(store, remote)
        code, paths, err = run_cli("-i", SMALL_IMAGE, "--style", "3", "--option", option,
                                   remote=remote, output_dir=tmp_path / option)
        assert code == 0, err
        [outputs[option]] = paths
    assert outputs["A"] != outputs["B"]
    a_bytes, b_bytes = (open(outputs[k], "rb").read() for k in "AB")
    assert a_bytes == b_bytes
    assert Image.open(outputs["B"]).size == small_photo().size


def test_rerun_does_nothing_and_a_new_style_makes_a_new_output(store, run_cli):
    code, [first], err = run_cli("-i", SMALL_IMAGE, "--style", "1", remote=store)
    assert code == 0, err
    before = open(first, "rb").read()
    RAN.clear()
    code, [again], err = run_cli("-i", SMALL_IMAGE, "--style", "1", remote=store)
    assert code == 0, err
    assert again == first and RAN == []  # the second build ran nothing
    RAN.clear()
    code, [second], err = run_cli("-i", SMALL_IMAGE, "--style", "2", remote=store)
    assert code == 0, err
    assert second != first
    # Only the new stylization (and its wrapper) ran: the inputs were already cached.
    assert sorted(type(task).__name__ for task in RAN) == ["StylizeAll", "StylizeShard"]
    assert open(first, "rb").read() == before
    assert open(second, "rb").read() != before


def test_a_batch_loads_each_model_once_per_process(store, tmp_path):
    for index in range(3):
        small_photo(mirror=bool(index % 2)).rotate(index).save(
            store / "images" / f"batch-{index}.png"
        )
    model_cache.forget_models()
    batch = StylizeAll(
        images=[f"batch-{index}.png" for index in range(3)], models=["multistyle26.pth"],
        styles=[5], option="B", remote_root=str(store), local_root=str(tmp_path / "data"),
        output_dir=str(tmp_path / "out"),
    )
    result = luigi.build([batch], local_scheduler=True, workers=1, detailed_summary=True)
    assert result.status == luigi.execution_summary.LuigiStatusCode.SUCCESS
    assert len({open(r.output().path, "rb").read() for r in batch.results()}) == 3
    assert model_cache.models_loaded() == 1


def test_missing_image_fails_with_one_line_and_no_output(store, tmp_path, run_cli):
    code, paths, err = run_cli("-i", "nosuch.jpg", remote=store)
    assert code == 20  # luigi.cfg [retcode] missing_data
    assert paths == []
    [line] = err.strip().splitlines()
    assert "missing on the remote: image 'nosuch.jpg'" in line
    assert not (tmp_path / "stylized").exists()


@pytest.mark.parametrize("option", ["A", "B"])
def test_a_bad_model_fails_with_one_line_and_no_output(store, tmp_path, run_cli, option):
    (store / "saved_models" / "broken.pth").write_bytes(b"this is not a checkpoint")
    code, paths, err = run_cli(
        "-i", SMALL_IMAGE, "-m", "broken.pth", "--option", option, remote=store
    )
    assert code == 30  # luigi.cfg [retcode] task_failed
    assert paths == []
    line, summary = err.strip().splitlines()  # the error, then the run's summary
    assert line.startswith("pset_4: error: ") and "broken.pth" in line
    assert summary.startswith(f"pset_4: 0 stylized, 0 already done, 1 failed ({SMALL_IMAGE}) in ")
    assert "Traceback" not in err
    leftovers = list((tmp_path / "stylized").rglob("*")) if (tmp_path / "stylized").exists() else []
    assert [p for p in leftovers if p.is_file()] == []


def test_unsafe_names_never_reach_luigi(store, tmp_path, run_cli):
    code, paths, err = run_cli("-i", "../remote/images/" + SMALL_IMAGE, remote=store)
    assert code == 2 and paths == []
    assert "contains a path separator" in err
    assert not (tmp_path / "data").exists()


def test_contact_sheet_shows_the_content_and_each_style(store, tmp_path, run_cli):
    code, paths, err = run_cli("-i", SMALL_IMAGE, "--style", "0", "--style", "9", "--contact-sheet",
                               remote=store)
    assert code == 0, err
    *stylized, sheet = paths
    assert len(stylized) == 2 and "contact-sheet--2-results--" in sheet
    grid = Image.open(sheet)
    assert grid.format == "PNG" and grid.width == 3 * 256


@pytest.mark.parametrize("option", ["A", "B"])
def test_stylize_reports_progress_and_a_status_message_to_the_scheduler(store, tmp_path, option):
    batch = StylizeAll(
        images=[SMALL_IMAGE], models=["multistyle26.pth"], styles=[2], option=option,
        remote_root=str(store), local_root=str(tmp_path / "data"), output_dir=str(tmp_path / "out"),
    )
    (task,) = batch.requires()
    result = luigi.build([batch], local_scheduler=True, detailed_summary=True)
    assert result.status == luigi.execution_summary.LuigiStatusCode.SUCCESS
    scheduler = result.worker._scheduler  # the local scheduler this build talked to
    message = scheduler.get_task_status_message(task.task_id)["statusMessage"]
    width, height = small_photo().size
    assert message == ("1 of 1 finished: 1 made, 0 already there, 0 failed; last: "
                       f"{SMALL_IMAGE} with multistyle26.pth style 2: done, {width}x{height}, "
                       "on the remote")
    assert scheduler.get_task_progress_percentage(task.task_id)["progressPercentage"] == 100
