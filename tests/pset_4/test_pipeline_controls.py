"""Style controls in the pipeline: flags as Stylize parameters in the result's key,
style pictures as remote inputs, bad values through the CLI and luigi.build."""

from __future__ import annotations

import re

import luigi
import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from sample_photos import SMALL_IMAGE

from pset_4.tasks.stylize import ContactSheet, Stylize, StylizeProgram

MODEL = "multistyle26.pth"


def roots(store, tmp_path) -> dict:
    return {"remote_root": str(store), "local_root": str(tmp_path / "data"),
            "output_dir": str(tmp_path / "out")}


def build(*tasks):
    return luigi.build(list(tasks), local_scheduler=True, detailed_summary=True)


def test_every_control_is_in_the_key_and_a_new_value_reruns(store, tmp_path):
    base = dict(image=SMALL_IMAGE, model=MODEL, style=3, **roots(store, tmp_path))
    variants = [Stylize(**base), Stylize(**base, strength=0.5),
                Stylize(**base, preserve_color=True),
                Stylize(**base, max_size=64), Stylize(**base, tile_size=128),
                Stylize(**{**base, "style": "3:0.5,12:0.5"})]
    paths = [task.output().path for task in variants]
    assert len(set(paths)) == len(paths)
    # defaults keep their readable names (the digest covers identities and controls)
    assert re.search(r"/stylized/[^/]+/multistyle26\.pth--style-3--[0-9a-f]{10}\.png$", paths[0])
    picture = dict(base, style_image="logo2.png")
    assert (Stylize(**picture, style_image_identity="etag-1").output().path
            != Stylize(**picture, style_image_identity="etag-2").output().path)
    assert Stylize(**{**base, "style": "3:1"}).output().path == paths[0]
    assert build(*variants).status == luigi.execution_summary.LuigiStatusCode.SUCCESS
    assert Image.open(paths[3]).size[1] == 64
    # an old value does not rerun: everything is complete
    assert all(task.complete() for task in variants)


def test_style_pictures_are_remote_inputs(store, tmp_path):
    (store / "styles").mkdir()
    for name in ("logo2.png", "Minduka_Present_Blue_Pack.png"):
        Image.open(cbook.get_sample_data(name, asfileobj=False)).convert("RGB").save(
            store / "styles" / name)
    tasks = [Stylize(image=SMALL_IMAGE, model=MODEL, style_image=name, **roots(store, tmp_path))
             for name in ("logo2.png", "Minduka_Present_Blue_Pack.png")]
    assert build(*tasks).status == luigi.execution_summary.LuigiStatusCode.SUCCESS
    first, second = (np.asarray(Image.open(t.output().path), dtype=float) for t in tasks)
    assert np.abs(first - second).mean() > 15
    # downloaded like the others, into this machine's cache
    assert any("styles" in path.parts for path in (tmp_path / "data").rglob("logo2.png"))
    missing = Stylize(image=SMALL_IMAGE, model=MODEL, style_image="nosuch.png",
                      **roots(store, tmp_path))
    result = build(missing)
    assert result.status != luigi.execution_summary.LuigiStatusCode.SUCCESS
    assert not missing.output().exists()


def test_a_style_picture_needs_no_model(store, tmp_path, run_cli):
    """--style-image runs the bundled style-image network: the -m model is neither
    downloaded nor part of the result's key."""
    (store / "styles").mkdir()
    Image.open(cbook.get_sample_data("logo2.png", asfileobj=False)).convert("RGB").save(
        store / "styles" / "logo2.png")
    code, paths, err = run_cli("-i", SMALL_IMAGE, "--style-image", "logo2.png", remote=store)
    assert code == 0, err
    [result] = paths
    assert re.search(r"/magenta_arbitrary--style-default--picture-logo2\.png--[0-9a-f]{10}\.png$",
                     result), result
    cached = [path.name for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert "logo2.png" in cached and not any(name.startswith(MODEL) for name in cached), cached
    # whatever model and style a task names, a style picture's result is the same one
    base = dict(image=SMALL_IMAGE, style_image="logo2.png", **roots(store, tmp_path))
    assert (Stylize(**base, model=MODEL, model_identity="etag-1", style=3).output().path
            == Stylize(**base, model="other.pth", model_identity="etag-2").output().path)


@pytest.mark.parametrize("task_class", [Stylize, StylizeProgram])
@pytest.mark.parametrize("values, words", [
    ({"strength": 1.5}, "--strength must be between 0 and 1"),
    ({"style": "3:abc"}, "bad --style 3:abc"),
    ({"style": 40}, "--style 40 is out of range"),
    ({"tile_size": 0}, "--tile-size must be a whole number"),
])
def test_bad_values_through_luigi_build(store, tmp_path, task_class, values, words):
    task = task_class(image=SMALL_IMAGE, model=MODEL, **{"style": 3, **values},
                      **roots(store, tmp_path))
    failures = []
    handler = task_class.event_handler(luigi.Event.FAILURE)(
        lambda failed, error: failures.append((failed, error)))
    try:
        result = build(task)
    finally:
        task_class.remove_event_handler(luigi.Event.FAILURE, handler)
    assert result.status == luigi.execution_summary.LuigiStatusCode.FAILED
    [(failed, error)] = failures
    assert failed == task and words in str(error)
    assert len(task.on_failure(error).splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any(
        path.is_file() for path in (tmp_path / "out").rglob("*"))


@pytest.mark.parametrize("task_class", [Stylize, StylizeProgram])
def test_corrupt_style_picture_through_luigi_build(store, tmp_path, task_class):
    (store / "styles").mkdir()
    (store / "styles" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    task = task_class(image=SMALL_IMAGE, model=MODEL, style_image="bad.png",
                      **roots(store, tmp_path))
    failures = []
    handler = task_class.event_handler(luigi.Event.FAILURE)(
        lambda failed, error: failures.append(error))
    try:
        result = build(task)
    finally:
        task_class.remove_event_handler(luigi.Event.FAILURE, handler)
    assert result.status == luigi.execution_summary.LuigiStatusCode.FAILED
    [error] = failures
    [line] = task.on_failure(error).splitlines()
    assert "--style-image" in line and "bad.png" in line, line
    assert not task.output().exists() and not task.cache_output().exists()


@pytest.mark.parametrize("argv, words", [
    (["--strength", "1.5"], "--strength must be between 0 and 1"),
    (["--style", "3:abc"], "bad --style 3:abc"),
    (["--style", "40"], "--style 40 is out of range"),
    (["--tile-size", "0"], "--tile-size must be a whole number"),
    (["--style-image", "../x.png"], "style picture name"),
    (["--style-image", "logo2.png", "-m", MODEL], "--style-image takes the place of"),
])
def test_bad_values_through_the_cli(store, tmp_path, run_cli, argv, words):
    code, paths, err = run_cli("-i", SMALL_IMAGE, *argv, remote=store)
    assert code == 2 and paths == []
    [line] = err.strip().splitlines()
    assert words in line
    assert not (tmp_path / "stylized").exists()


def test_missing_style_picture_through_the_cli(store, tmp_path, run_cli):
    code, paths, err = run_cli("-i", SMALL_IMAGE, "--style-image", "nosuch.png", remote=store)
    assert code != 0 and paths == []
    assert len(err.strip().splitlines()) == 1
    assert not any(path.is_file() for path in (tmp_path / "stylized").rglob("*"))


def test_contact_sheet_strength_ramp(store, tmp_path, run_cli):
    code, paths, err = run_cli("-i", SMALL_IMAGE, "--style", "3:0.5,12:0.5", "--strength", "0",
                               "--strength", "0.5", "--strength", "1", "--contact-sheet",
                               remote=store)
    assert code == 0, err
    sheet_path = [path for path in paths if "contact-sheet--3-results" in path]
    assert len(sheet_path) == 1
    results = [path for path in paths if "contact-sheet" not in path]
    assert len(results) == 3 and any("strength-0.5" in path for path in results)
    # strength 0 gives the content back
    zero = next(path for path in results if re.search(r"--strength-0--[0-9a-f]{10}\.png$", path))
    content = Image.open(store / "images" / SMALL_IMAGE).convert("RGB")
    assert np.array_equal(np.asarray(Image.open(zero)), np.asarray(content))
    assert ContactSheet  # the task the flag builds


def test_options_a_and_b_agree_on_every_control(store, tmp_path):
    (store / "styles").mkdir()
    Image.open(cbook.get_sample_data("logo2.png", asfileobj=False)).convert("RGB").save(
        store / "styles" / "logo2.png")
    settings = [dict(style="3:1,12:3", strength=0.7, preserve_color=True, max_size=80,
                     tile_size=128),
                dict(style_image="logo2.png", strength=0.5)]
    for index, controls in enumerate(settings):
        tasks = [task_class(image=SMALL_IMAGE, model=MODEL, **controls,
                            **roots(store, tmp_path / f"{task_class.__name__}-{index}"))
                 for task_class in (Stylize, StylizeProgram)]
        assert build(*tasks).status == luigi.execution_summary.LuigiStatusCode.SUCCESS
        in_process, program = (open(task.output().path, "rb").read() for task in tasks)
        assert in_process == program
