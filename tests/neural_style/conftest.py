"""Shared fixtures: the real multistyle26 weights, converted once per session,
and a small real photo."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import torch
from matplotlib import cbook
from torch import nn

from neural_style import bundled_multistyle_onnx, convert, load_image, load_model
from neural_style.transformer_net import TransformerNet

SMALL_SIDE = 128


@pytest.fixture(scope="session")
def multistyle_onnx() -> Path:
    return bundled_multistyle_onnx()


@pytest.fixture(scope="session")
def multistyle_checkpoint(multistyle_onnx, tmp_path_factory) -> Path:
    [checkpoint] = convert(multistyle_onnx, tmp_path_factory.mktemp("models"))
    return checkpoint


@pytest.fixture(scope="session")
def grace_hopper_path() -> Path:
    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def grace_hopper(grace_hopper_path):
    """The real photo shrunk to 128 px on its long side: 109x128, not a multiple of 4."""
    image = load_image(grace_hopper_path)
    image.thumbnail((SMALL_SIDE, SMALL_SIDE))
    return image


@pytest.fixture(scope="session")
def grace_hopper_png(grace_hopper, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "grace_hopper_128.png"
    grace_hopper.save(path)
    return path


@pytest.fixture(scope="session")
def multistyle_model(multistyle_checkpoint):
    """load_model(style=K), cached per style for the session."""
    cache = {}

    def get(style: int):
        if style not in cache:
            cache[style] = load_model(multistyle_checkpoint, style=style, engine="torch")
        return cache[style]

    return get


def random_transformer_net(seed: int = 0) -> TransformerNet:
    """A TransformerNet with random weights, instance norms included, so that
    feeding a tensor to the wrong layer would change the output."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        network = TransformerNet()
        with torch.no_grad():
            for module in network.modules():
                if isinstance(module, nn.InstanceNorm2d):
                    module.weight.normal_(1.0, 0.2)
                    module.bias.normal_(0.0, 0.2)
    return network.eval()


@pytest.fixture(scope="session")
def make_transformer_net():
    """random_transformer_net(seed), as a fixture: test modules import nothing
    from conftest, whose module name other test folders share."""
    return random_transformer_net


@pytest.fixture(scope="session")
def examples_state_dict_path(tmp_path_factory) -> Path:
    """A checkpoint as pytorch/examples saved them: a raw state_dict that still
    carries the deprecated InstanceNorm running statistics."""
    network = random_transformer_net()
    state_dict = network.state_dict()
    for name, module in network.named_modules():
        if isinstance(module, nn.InstanceNorm2d):
            state_dict[f"{name}.running_mean"] = torch.zeros(module.num_features)
            state_dict[f"{name}.running_var"] = torch.ones(module.num_features)
    path = tmp_path_factory.mktemp("examples") / "candy.pth"
    torch.save(state_dict, path)
    return path


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares width x height pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (3 * width + 1) * 4)) + chunk(b"IEND", b""))


@pytest.fixture(scope="session")
def decompression_bomb_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "bomb.png"
    path.write_bytes(png_declaring(40_000, 40_000))
    return path
