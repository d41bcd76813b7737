"""Issue 17's classes through the pipeline, ``python -m pset_4`` and luigi.build alike:
a link out of the store, the pixel budget, hostile checkpoints, 16-bit and float
images, 250-byte names and the stale-temp sweep (the library halves are in
tests/neural_style and tests/csci_utils)."""

from __future__ import annotations

import os
import subprocess

import luigi
import numpy as np
import pytest
import torch
from PIL import Image
from sample_photos import SMALL_IMAGE, small_photo

from csci_utils.atomic import TMP_MARKER
from csci_utils.luigi import remote_target, resolve
from pset_4.outcome import failure_reason
from pset_4.tasks.stylize import Stylize

MODEL = "multistyle26.pth"


def stylize_task(store, tmp_path, image=SMALL_IMAGE, model=MODEL, **options) -> Stylize:
    identities = {f"{kind}_identity": resolve(remote_target(str(store), path)).identity
                  for kind, path in (("image", f"images/{image}"),
                                     ("model", f"saved_models/{model}"))}
    return Stylize(image=image, model=model, style=0, **identities, remote_root=str(store),
                   local_root=str(tmp_path / "data"), output_dir=str(tmp_path / "stylized"),
                   **options)


def build_failure(task) -> str:
    result = luigi.build([task], local_scheduler=True, detailed_summary=True)
    assert not result.scheduling_succeeded
    line = failure_reason(result)
    assert len(line.splitlines()) == 1 and not task.output().exists(), line
    return line


def one_line(code, printed, err) -> str:
    assert code != 0 and printed == [], (code, printed, err)
    line, *summary = err.splitlines()  # a run that reached its batch adds its summary line
    assert summary == [] or (len(summary) == 1 and " stylized, " in summary[0]), err
    assert line.startswith("pset_4: error: "), line
    return line


def results(store) -> list[str]:
    return sorted(str(path) for path in (store / "stylized").rglob("*.png"))


# --- class 1: no escape from the store ------------------------------------------------

def test_a_link_out_of_the_store_is_refused_by_the_cli(store, tmp_path, run_cli):
    outside = tmp_path / "outside.png"
    small_photo().save(outside)
    (store / "images" / "linked.png").symlink_to(outside)
    line = one_line(*run_cli("-i", "linked.png", "--no-seed", remote=store))
    assert "refusing" in line and "linked.png" in line and "outside its root" in line, line
    assert results(store) == []


# --- class 3: the pixel budget after --content-scale ----------------------------------

def test_the_pixel_budget_applies_after_content_scale(store, tmp_path, run_cli):
    line = one_line(*run_cli("-i", SMALL_IMAGE, "--content-scale", "0.01", "--no-seed",
                             remote=store))
    assert "would be stylized at 9600x11300 after --content-scale 0.01" in line, line
    line = build_failure(stylize_task(store, tmp_path, content_scale=0.01))
    assert "would be stylized at 9600x11300" in line, line


# --- classes 4-6: hostile checkpoints, one line each ----------------------------------

class _RunsCode:
    def __reduce__(self):
        return os.system, ("touch /tmp/pset4-hostile-ran",)


def _hostile_model(store, kind: str) -> str:
    path = store / "saved_models" / f"{kind}.pth"
    if kind == "evil":
        torch.save({"state_dict": _RunsCode()}, path)
    else:
        checkpoint = torch.load(store / "saved_models" / MODEL, weights_only=True)
        checkpoint["num_styles"] = 10_000_000
        torch.save(checkpoint, path)
    return path.name


@pytest.mark.parametrize("kind, expected", [
    ("huge", "num_styles is 10000000 but its weights hold 26"),
    ("evil", "contains code"),
])
def test_a_hostile_checkpoint_fails_with_one_line(store, tmp_path, run_cli, kind, expected):
    model = _hostile_model(store, kind)
    line = one_line(*run_cli("-i", SMALL_IMAGE, "-m", model, "--style", "0", "--no-seed",
                             remote=store))
    assert expected in line and model in line and "weights_only" not in line, line
    line = build_failure(stylize_task(store, tmp_path, model=model))
    assert expected in line and "weights_only" not in line, line
    assert not os.path.exists("/tmp/pset4-hostile-ran")


def test_a_tiny_image_is_named_through_luigi_build(store, tmp_path):
    Image.new("RGB", (1, 1)).save(store / "images" / "dot.png")
    line = build_failure(stylize_task(store, tmp_path, image="dot.png"))
    assert "dot.png is 1x1; both sides need at least 8 pixels" in line, line


def test_an_onnx_file_named_pth_is_stylized_through_luigi_build(store, tmp_path):
    """Class 6: an ONNX network renamed .pth is read as ONNX, not refused as unsafe."""
    from neural_style.bundled import bundled_multistyle_onnx

    (store / "saved_models" / "renamed.pth").write_bytes(bundled_multistyle_onnx().read_bytes())
    task = stylize_task(store, tmp_path, model="renamed.pth")
    assert luigi.build([task], local_scheduler=True)
    with Image.open(task.cache_output().path) as result:
        assert result.size == Image.open(store / "images" / SMALL_IMAGE).size


# --- class 8: 16-bit and float images --------------------------------------------------

def _grey_twins(store) -> None:
    grey = np.asarray(small_photo().convert("L"), dtype=np.uint16)
    Image.fromarray(grey.astype(np.uint8)).save(store / "images" / "grey8.png")
    Image.fromarray(grey * 257).save(store / "images" / "grey16.png")  # I;16, full scale
    assert Image.open(store / "images" / "grey16.png").mode == "I;16"


def test_a_16_bit_image_is_stylized_as_its_8_bit_twin(store, run_cli):
    _grey_twins(store)
    code, printed, err = run_cli("-i", "grey8.png", "-i", "grey16.png", "--no-seed",
                                 remote=store)
    assert code == 0 and len(printed) == 2, err
    eight, sixteen = (np.asarray(Image.open(path)) for path in printed)
    assert np.array_equal(eight, sixteen)  # not 99.6 % white


def test_a_16_bit_image_is_stylized_as_its_8_bit_twin_through_luigi_build(store, tmp_path):
    _grey_twins(store)
    tasks = [stylize_task(store, tmp_path, image=name) for name in ("grey8.png", "grey16.png")]
    assert luigi.build(tasks, local_scheduler=True)
    eight, sixteen = (np.asarray(Image.open(task.cache_output().path)) for task in tasks)
    assert np.array_equal(eight, sixteen)  # not 99.6 % white


def test_float_pixels_out_of_range_are_refused(store, tmp_path, run_cli):
    hdr = np.linspace(0, 1e6, 96 * 112, dtype=np.float32).reshape(112, 96)
    Image.fromarray(hdr).save(store / "images" / "hdr.tif")
    line = one_line(*run_cli("-i", "hdr.tif", "--no-seed", remote=store))
    assert "hdr.tif: its F pixels range 0..1e+06" in line, line
    line = build_failure(stylize_task(store, tmp_path, image="hdr.tif"))
    assert "its F pixels range" in line, line


# --- class 7: names of 235-255 bytes --------------------------------------------------

LONG_NAME = "p" * 246 + ".png"  # 250 bytes: legal, but not with a temp marker added


def test_a_250_byte_image_name_goes_through_the_pipeline(store, tmp_path, run_cli):
    small_photo().save(store / "images" / LONG_NAME)
    code, [printed], err = run_cli("-i", LONG_NAME, "--no-seed", remote=store)
    assert code == 0, err
    assert Image.open(printed).size == small_photo().size
    task = stylize_task(store, tmp_path / "another-machine", image=LONG_NAME)
    assert luigi.build([task], local_scheduler=True)  # done on the remote already
    fresh = stylize_task(store, tmp_path / "fresh", image=LONG_NAME, strength=0.5)
    assert luigi.build([fresh], local_scheduler=True) and fresh.output().exists()


# --- class 10: a dead writer's temp file is swept by the next run ----------------------

def test_the_next_cli_run_sweeps_a_dead_writers_temp(store, tmp_path, run_cli):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is gone: no live process owns the temp file
    folder = os.path.dirname(stylize_task(store, tmp_path).cache_output().path)
    os.makedirs(folder)
    stale = os.path.join(folder, f"{MODEL}--style-0{TMP_MARKER}{dead.pid}-0123456789.png")
    with open(stale, "wb") as half_written:
        half_written.write(b"\x89PNG half")
    code, printed, err = run_cli("-i", SMALL_IMAGE, "--style", "0", "--no-seed", remote=store)
    assert code == 0 and len(printed) == 1, err
    assert not os.path.exists(stale)
    assert [name for name in os.listdir(folder) if TMP_MARKER in name] == []
