"""`python -m neural_style eval|convert`: real subprocesses for the contract
(exit status, one stderr line, identical bytes), in-process main() for the rest."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
import torch

from neural_style import load_image, load_model, save_image, stylize
from neural_style.cli import main


def run_cli(*arguments, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neural_style", *map(str, arguments)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_eval_subprocess_writes_the_same_bytes_as_in_process(grace_hopper_png,
                                                              multistyle_checkpoint, tmp_path):
    output = tmp_path / "out" / "hopper-style5.png"
    result = run_cli("eval", "--content-image", grace_hopper_png, "--model", multistyle_checkpoint,
                     "--style", 5, "--output-image", output)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output)
    assert os.listdir(output.parent) == [output.name]  # no temp file left behind
    in_process = io.BytesIO()
    save_image(stylize(load_image(grace_hopper_png), load_model(multistyle_checkpoint, style=5)),
               in_process, format="png")
    assert output.read_bytes() == in_process.getvalue()


def test_eval_error_is_one_line_exit_1_and_no_output(grace_hopper_png, tmp_path):
    output = tmp_path / "out.png"
    result = run_cli("eval", "--content-image", grace_hopper_png, "--model",
                     tmp_path / "missing.pth", "--output-image", output)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("neural_style: error: model not found:")
    assert not output.exists() and list(tmp_path.iterdir()) == []


def test_convert_subprocess_defaults_to_the_bundled_onnx(tmp_path):
    result = run_cli("convert", "--output-dir", tmp_path / "models")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "models" / "multistyle26.pth")
    checkpoint = torch.load(tmp_path / "models" / "multistyle26.pth", weights_only=True)
    assert checkpoint["architecture"] == "magenta_multistyle"


def test_eval_in_process_with_onnx_engine_and_content_scale(grace_hopper_png,
                                                            multistyle_checkpoint, tmp_path,
                                                            capsys):
    output = tmp_path / "small.jpg"
    assert main(["eval", "--content-image", str(grace_hopper_png), "--model",
                 str(multistyle_checkpoint), "--style", "2", "--engine", "onnx",
                 "--content-scale", "2", "--output-image", str(output)]) == 0
    assert load_image(output).size == (54, 64)
    assert output.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG, chosen by the suffix


def bad_eval_arguments(tmp_path, image, checkpoint, payload, bomb):
    return {
        "decompression bomb": (["--content-image", bomb, "--model", checkpoint, "--style", 0],
                               "decompression bomb"),
        "missing image": (["--content-image", tmp_path / "nope.png", "--model", checkpoint,
                           "--style", 0], "image not found"),
        "no style": (["--content-image", image, "--model", checkpoint], "pick one with --style K"),
        "style out of range": (["--content-image", image, "--model", checkpoint, "--style", 99],
                               "--style 99 is out of range"),
        "pickle payload": (["--content-image", image, "--model", payload],
                           "it is not a tensors-only checkpoint"),
        "unknown output format": (["--content-image", image, "--model", checkpoint,
                                   "--style", 0], "cannot tell the image format"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "decompression bomb",
        "missing image",
        "no style",
        "style out of range",
        "pickle payload",
        "unknown output format",
    ],
)
def test_eval_errors_in_process(case, grace_hopper_png, multistyle_checkpoint,
                                decompression_bomb_png, tmp_path, capsys):
    payload = tmp_path / "evil.pth"
    marker = tmp_path / "pwned"
    torch.save({"x": _Payload(marker)}, payload)
    arguments, message = bad_eval_arguments(tmp_path, grace_hopper_png, multistyle_checkpoint,
                                            payload, decompression_bomb_png)[case]
    output = tmp_path / "out" / ("out.xyz" if case == "unknown output format" else "out.png")
    assert main(["eval", *map(str, arguments), "--output-image", str(output)]) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith("neural_style: error: ") and message in stderr
    assert stderr.count("\n") == 1
    assert not output.exists() and not marker.exists()
    assert not output.parent.exists() or list(output.parent.iterdir()) == []


def test_verbose_adds_the_traceback(tmp_path, capsys):
    assert main(["convert", "--onnx", str(tmp_path / "x.onnx"), "--output-dir", str(tmp_path),
                 "--verbose"]) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" in stderr and stderr.rstrip().endswith("check --onnx")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a CPU-only machine")
def test_cuda_without_a_gpu_is_a_clear_error(grace_hopper_png, multistyle_checkpoint, tmp_path,
                                             capsys):
    assert main(["eval", "--content-image", str(grace_hopper_png), "--model",
                 str(multistyle_checkpoint), "--style", "0", "--cuda", "1",
                 "--output-image", str(tmp_path / "o.png")]) == 1
    assert "CUDA is not available here; use --cuda 0" in capsys.readouterr().err


class _Payload:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")
