"""The onnxruntime engine and the torch engine agree on the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from neural_style import NeuralStyleError, load_model, stylize


def pixel_difference(first, second) -> int:
    return int(np.abs(np.asarray(first, np.int16) - np.asarray(second, np.int16)).max())


def test_engines_agree_on_the_converted_multistyle_checkpoint(multistyle_checkpoint,
                                                              multistyle_model, grace_hopper):
    onnx_model = load_model(multistyle_checkpoint, style=7, engine="onnx")
    assert onnx_model.engine == "onnx" and multistyle_model(7).engine == "torch"
    assert pixel_difference(stylize(grace_hopper, onnx_model),
                            stylize(grace_hopper, multistyle_model(7))) <= 2


def test_both_engines_run_the_original_onnx_file(multistyle_onnx, multistyle_model, grace_hopper):
    reference = stylize(grace_hopper, multistyle_model(4))
    for engine in ("onnx", "torch"):
        model = load_model(multistyle_onnx, style=4, engine=engine)
        assert pixel_difference(stylize(grace_hopper, model), reference) <= 2, engine


def test_engines_agree_on_a_transformer_net(examples_state_dict_path, grace_hopper):
    torch_output = stylize(grace_hopper, load_model(examples_state_dict_path))
    onnx_output = stylize(grace_hopper, load_model(examples_state_dict_path, engine="onnx"))
    assert pixel_difference(torch_output, onnx_output) <= 2


def test_unknown_engine_is_refused(multistyle_checkpoint):
    with pytest.raises(NeuralStyleError, match="unknown engine 'tf'; use one of auto, torch, onnx"):
        load_model(multistyle_checkpoint, style=0, engine="tf")
