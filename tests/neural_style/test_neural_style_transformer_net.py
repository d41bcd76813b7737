"""TransformerNet: pytorch/examples checkpoints, any image size, ONNX round trip."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from neural_style import NeuralStyleError, TransformerNet, convert, load_model, stylize
from neural_style.images import image_to_tensor


@pytest.fixture(scope="module")
def exported_onnx(tmp_path_factory, make_transformer_net):
    """Our TransformerNet through torch.onnx.export, as the model zoo's files were made."""
    path = tmp_path_factory.mktemp("zoo") / "candy-9.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(make_transformer_net(seed=1), (torch.rand(1, 3, 64, 64) * 255,),
                          str(path), dynamo=False, opset_version=17, input_names=["input1"],
                          output_names=["output1"],
                          dynamic_axes={"input1": {2: "height", 3: "width"}})
    return path


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_loads_a_pytorch_examples_state_dict_with_deprecated_keys(engine, examples_state_dict_path,
                                                                 make_transformer_net):
    raw = torch.load(examples_state_dict_path, weights_only=True)
    assert any(key.endswith(".running_mean") for key in raw)  # the test data is realistic
    model = load_model(examples_state_dict_path, engine=engine)
    assert model.architecture == "transformer_net" and not model.training
    reference = make_transformer_net()
    image = torch.rand(1, 3, 32, 48)
    with torch.inference_mode():
        expected = (reference(image * 255) / 255).clamp(0, 1)
    actual = torch.from_numpy(model.stylize_pixels(image.numpy()))
    assert torch.allclose(actual, expected, atol=1e-4)


@pytest.mark.parametrize("size", [(37, 29), (50, 64), (33, 66), (64, 64)])
def test_output_has_the_input_size(size, examples_state_dict_path):
    model = load_model(examples_state_dict_path)
    image = Image.new("RGB", size, (200, 30, 90))
    assert stylize(image, model).size == size


def test_rejects_a_style_index(examples_state_dict_path):
    with pytest.raises(NeuralStyleError, match=r"candy\.pth is a single-style TransformerNet"):
        load_model(examples_state_dict_path, style=3)


def test_rejects_a_state_dict_of_another_network(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(NeuralStyleError, match=r"resnet\.pth does not fit TransformerNet"):
        load_model(path)


def test_onnx_export_converts_back_to_the_same_transformer_net(exported_onnx, tmp_path,
                                                              make_transformer_net):
    [checkpoint_path] = convert(exported_onnx, tmp_path / "models")
    assert checkpoint_path == tmp_path / "models" / "candy-9.pth"
    checkpoint = torch.load(checkpoint_path, weights_only=True)
    assert checkpoint["architecture"] == "transformer_net"
    assert (checkpoint["num_styles"], checkpoint["style"]) == (1, 0)
    assert checkpoint["source_sha256"] == hashlib.sha256(exported_onnx.read_bytes()).hexdigest()
    original = make_transformer_net(seed=1).state_dict()
    assert set(checkpoint["state_dict"]) == set(original)
    for name, tensor in original.items():
        assert torch.equal(checkpoint["state_dict"][name], tensor), name

    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 52, 3), np.uint8))
    from_onnx = np.asarray(stylize(image, load_model(checkpoint_path)), np.int16)
    reference = TransformerNet()
    reference.load_state_dict(original)
    with torch.inference_mode():
        expected = (reference.eval()(image_to_tensor(image) * 255) / 255).clamp(0, 1)
    expected = np.asarray(np.round(expected[0].permute(1, 2, 0).numpy() * 255), np.int16)
    assert np.abs(from_onnx - expected).max() <= 1


def test_convert_rejects_an_onnx_model_that_is_no_style_network(tmp_path):
    relu = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Relu", ["x"], ["y"])], "relu",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]))
    path = tmp_path / "relu.onnx"
    onnx.save(relu, path)
    with pytest.raises(
        NeuralStyleError, match=r"relu\.onnx is neither the Magenta .* nor a TransformerNet"
    ):
        convert(path, tmp_path / "out")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not a protobuf at all" * 10)
    with pytest.raises(NeuralStyleError, match=r"cannot read ONNX model .*garbage\.onnx"):
        convert(garbage, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
