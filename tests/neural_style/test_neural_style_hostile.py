"""Hostile inputs to neural_style: each is converted right or refused with one line,
and never costs unbounded memory; through the library and `python -m neural_style eval`."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style import NeuralStyleError, load_image, load_model, stylize
from neural_style.cli import main
from neural_style.images import MAX_NETWORK_PIXELS


def run_eval(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neural_style", "eval", *map(str, arguments)],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_failure(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("neural_style: error: "), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture(scope="module")
def small_png(grace_hopper, tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "photo.png"
    grace_hopper.resize((64, 48)).save(path)
    return path


# --- checkpoint metadata -------------------------------------------------------------

def _tampered(multistyle_checkpoint, tmp_path, **changes):
    checkpoint = torch.load(multistyle_checkpoint, weights_only=True)
    for key, value in changes.items():
        if value is None:
            checkpoint.pop(key)
        else:
            checkpoint[key] = value
    path = tmp_path / "tampered.pth"
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize("changes, expected", [
    ({"num_styles": 10_000_000}, "num_styles is 10000000 but its weights hold 26"),
    ({"num_styles": "26"}, "num_styles is '26', not a positive whole number"),
    ({"num_styles": -3}, "num_styles is -3, not a positive whole number"),
    ({"state_dict": None}, "without a state_dict of tensors"),
    ({"architecture": "resnet"}, "unknown architecture 'resnet'"),
])
def test_checkpoint_metadata_is_checked_against_the_tensors_before_building(
        multistyle_checkpoint, tmp_path, small_png, changes, expected):
    path = _tampered(multistyle_checkpoint, tmp_path, **changes)
    with pytest.raises(NeuralStyleError, match="tampered.pth") as refused:
        load_model(path, style=0)
    assert expected in str(refused.value)
    result = run_eval("--content-image", small_png, "--model", path, "--style", 0,
                      "--output-image", tmp_path / "out.png")
    assert_one_line_failure(result, str(path), expected)
    assert not (tmp_path / "out.png").exists()


class _RunsCode:
    def __reduce__(self):
        return os.system, ("true",)


def test_a_refused_pickle_says_it_contains_code_and_never_suggests_unsafe_loading(
        tmp_path, small_png):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": _RunsCode()}, path)
    result = run_eval("--content-image", small_png, "--model", path,
                      "--output-image", tmp_path / "out.png")
    assert_one_line_failure(result, str(path), "contains code", "was not loaded")
    assert "weights_only" not in result.stderr


def test_an_onnx_file_named_pth_is_read_as_onnx(multistyle_onnx, tmp_path, small_png):
    renamed = tmp_path / "multistyle26.pth"
    shutil.copy(multistyle_onnx, renamed)
    assert load_model(renamed, style=3).metadata["num_styles"] == 26  # read, not refused
    result = run_eval("--content-image", small_png, "--model", renamed, "--style", 3,
                      "--output-image", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out.png").size == (64, 48)


def test_memory_error_is_one_line(monkeypatch, small_png, multistyle_checkpoint, tmp_path, capsys):
    stylize_module = sys.modules["neural_style.stylize"]

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(stylize_module, "image_to_array", exhausted)
    code = main(["eval", "--content-image", str(small_png), "--model", str(multistyle_checkpoint),
                 "--style", "0", "--output-image", str(tmp_path / "out.png")])
    assert code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("neural_style: error: out of memory")


# --- 16-bit and float images ----------------------------------------------------------

GRADIENT = np.linspace(0, 1, 32 * 32).reshape(32, 32)


def _png16_rgb(path, values):
    height, width, _ = values.shape
    raw = b"".join(b"\x00" + values[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("kind", ["png I;16", "tiff F", "tiff I", "png 16-bit RGB"])
def test_high_bit_depth_images_are_rescaled_to_8_bits(tmp_path, kind):
    path = tmp_path / ("image.png" if kind.startswith("png") else "image.tif")
    if kind == "png I;16":
        Image.fromarray((GRADIENT * 65535).astype(np.uint16)).save(path)
    elif kind == "tiff F":
        Image.fromarray(GRADIENT.astype(np.float32)).save(path)
    elif kind == "tiff I":
        Image.fromarray((GRADIENT * 65535).astype(np.int32)).save(path)
    else:
        _png16_rgb(path, np.stack([GRADIENT * 65535] * 3, axis=-1))
    loaded = np.asarray(load_image(path), dtype=np.float64)[..., 0]
    assert np.abs(loaded - GRADIENT * 255).max() <= 1.0, kind  # not white, not black


def test_float_pixels_out_of_any_known_range_are_refused(tmp_path):
    path = tmp_path / "hdr.tif"
    Image.fromarray((GRADIENT * 1e6).astype(np.float32)).save(path)
    with pytest.raises(NeuralStyleError, match=r"hdr\.tif: its F pixels range 0\.\.1e\+06"):
        load_image(path)


# --- sizes ----------------------------------------------------------------------------

def test_the_pixel_budget_applies_to_the_size_after_content_scale(small_png, multistyle_checkpoint,
                                                                   tmp_path):
    image = load_image(small_png)
    with pytest.raises(NeuralStyleError, match=r"photo\.png would be stylized at 6400x4800 after "
                                               r"--content-scale 0\.01, more than the"):
        stylize(image, load_model(multistyle_checkpoint, style=0), content_scale=0.01)
    assert MAX_NETWORK_PIXELS < 6400 * 4800
    result = run_eval("--content-image", small_png, "--model", multistyle_checkpoint, "--style", 0,
                      "--content-scale", "0.01", "--output-image", tmp_path / "out.png")
    assert_one_line_failure(result, "would be stylized at 6400x4800")


def test_a_tiny_image_is_named(tmp_path, multistyle_checkpoint):
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1)).save(path)
    result = run_eval("--content-image", path, "--model", multistyle_checkpoint, "--style", 0,
                      "--output-image", tmp_path / "out.png")
    assert_one_line_failure(result, f"{path} is 1x1; both sides need at least 8 pixels")


def test_library_warnings_stay_off_stderr(tmp_path, multistyle_checkpoint):
    path = tmp_path / "corrupt-exif.jpg"
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01"
    Image.new("RGB", (16, 16), "red").save(path, exif=exif)
    result = run_eval("--content-image", path, "--model", multistyle_checkpoint, "--style", 0,
                      "--output-image", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    # Only the command's own report line, no "UserWarning: Corrupt EXIF data".
    assert len(result.stderr.splitlines()) <= 1 and "Warning" not in result.stderr, result.stderr


@pytest.mark.parametrize("disk, cause", [("full", "no space left on the device"),
                                         ("read-only", "the file system is read-only")])
def test_a_refused_write_names_the_output_and_the_cause(tmp_path, small_png, multistyle_checkpoint,
                                                        disk, cause):
    from fixtures.filesystems import mounted_tmpfs

    with mounted_tmpfs(tmp_path / disk, "4k", read_only=disk == "read-only") as where:
        output = where / "out" / "photo.png"
        result = run_eval("--content-image", small_png, "--model", multistyle_checkpoint,
                          "--style", 0, "--output-image", output)
        expected = output if disk == "full" else output.parent  # the folder is refused first
        assert_one_line_failure(result, str(expected), cause)
        assert "luigi-tmp" not in result.stderr and ".png or .jpg" not in result.stderr
        assert not [path for path in where.rglob("*") if path.is_file()]
