"""load_model: a style model on the quickest engine this machine has.

``load_model`` reads a checkpoint (ours, or a raw pytorch/examples state_dict) or
an ONNX file and returns a model with ``stylize_pixels(1x3xHxW array in 0..1)``:

* ``engine="auto"`` (the default): onnxruntime when it is installed (and, for
  ``device="cuda"``, has its CUDA provider), else torch. On this project's CPUs
  onnxruntime is 1.5-2x faster than torch on the same weights
  (benchmarks/style_engines.py).
* ``"onnx"``: onnxruntime on an ONNX file made once per model content and cached
  (neural_style/onnx_cache.py). A cached model loads without importing torch.
* ``"torch"``: our torch network (neural_style/torch_engine.py), an nn.Module.

This module imports neither torch nor onnxruntime: each engine does, when used.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .architectures import MULTISTYLE
from .errors import NeuralStyleError

ENGINES = ("auto", "torch", "onnx")
SIZE_MULTIPLE = 4
MIN_SIDE = 8  # the 9x9 reflection pad needs more than 4 pixels per side


def load_model(path, style: int | None = None, device: str = "cpu", engine: str = "auto"):
    """Load a style model for inference.

    ``path``: a checkpoint written by ``convert``, a raw pytorch/examples
    TransformerNet state_dict, or an ONNX file. ``style`` (0..25) is required for
    the multi-style net and must be None (or 0) for a TransformerNet.
    """
    if engine not in ENGINES:
        raise NeuralStyleError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    path, device = Path(path), str(device)
    if engine == "auto":
        engine = quickest_engine(device)
    if engine == "onnx":
        from .onnx_cache import cached_onnx
        from .onnx_engine import OnnxStyleModel

        if not path.is_file():
            raise NeuralStyleError(f"model not found: {path}; check --model")
        return OnnxStyleModel(cached_onnx(path), style, device, source=path)
    from .torch_engine import load_torch_model  # imports torch (~1.2 s)

    return load_torch_model(path, style, device)


def quickest_engine(device: str) -> str:
    """onnxruntime if it is installed and can use ``device``, else torch."""
    if importlib.util.find_spec("onnxruntime") is None:
        return "torch"
    if not device.startswith("cuda"):
        return "onnx"
    import onnxruntime

    return "onnx" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() else "torch"


def padding_for(height: int, width: int) -> tuple[int, int]:
    """(bottom, right) reflect-padding that makes both sides a multiple of 4; both
    networks downsample by 4, and the result is cropped back to the input's size."""
    if min(height, width) < MIN_SIDE:
        raise NeuralStyleError(
            f"image is {width}x{height}; both sides need at least {MIN_SIDE} pixels")
    return (-height) % SIZE_MULTIPLE, (-width) % SIZE_MULTIPLE


def check_style(style: int | None, metadata: dict, path: Path) -> int | None:
    if metadata["architecture"] == MULTISTYLE:
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
