"""Tensors-only checkpoints: write them atomically, read them safely.

A checkpoint is a plain dict of strings, ints and tensors, so
``torch.load(weights_only=True)`` reads it and no pickled code can run:

    {"format": "neural_style.checkpoint/1", "architecture": "magenta_multistyle",
     "num_styles": 26, "style": None, "source_name": "multistyle26.onnx",
     "source_sha256": "…", "state_dict": {name: tensor}}

``style`` is the style index of a single-style checkpoint (0 for a
TransformerNet) and None for a multi-style one, which is used with style=K.
pytorch/examples' raw state_dicts (no "format" key) are read too.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from csci_utils.atomic import atomic_path
from csci_utils.one_line import first_line

from .content import sha256_of  # noqa: F401  (conversion imports it from here)
from .errors import NeuralStyleError

CHECKPOINT_FORMAT = "neural_style.checkpoint/1"


def make_checkpoint(architecture: str, state_dict: dict, *, num_styles: int, style: int | None,
                    source_name: str, source_sha256: str) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "architecture": architecture,
        "num_styles": num_styles,
        "style": style,
        "source_name": source_name,
        "source_sha256": source_sha256,
        "state_dict": {name: tensor.detach().cpu().contiguous()
                       for name, tensor in state_dict.items()},
    }


def save_checkpoint(checkpoint: dict, path) -> Path:
    path = Path(path)
    with atomic_path(path) as temporary:
        torch.save(checkpoint, temporary)
    return path


def read_checkpoint(path, device: str = "cpu") -> dict:
    """torch.load with weights_only=True, with every failure as one clear line."""
    path = Path(path)
    if not path.is_file():
        raise NeuralStyleError(f"model not found: {path}; check --model")
    try:
        loaded = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        raise NeuralStyleError(
            f"refusing to load {path}: it is not a tensors-only checkpoint "
            f"({_unpickler_reason(error)}); only load files you trust, re-saved as a state_dict"
        ) from None
    except Exception as error:  # a corrupt file can fail anywhere in the unpickler (KeyError...)
        raise NeuralStyleError(
            f"cannot read model {path}: {first_line(error)}; pass a .pth checkpoint or an .onnx "
            "file"
        ) from None
    if not isinstance(loaded, dict):
        raise NeuralStyleError(
            f"{path} holds a {type(loaded).__name__}, not a checkpoint dict; "
            "pass a state_dict or a file written by `python -m neural_style convert`")
    return loaded


def _unpickler_reason(error: BaseException) -> str:
    for line in str(error).splitlines():
        if "WeightsUnpickler error" in line:
            return line.split("WeightsUnpickler error:", 1)[1].strip().rstrip(".")
    return first_line(error)


def load_weights_strictly(network: torch.nn.Module, state_dict: dict, describe) -> None:
    """``load_state_dict(strict=True)``, failing with a one-line NeuralStyleError.

    ``describe(network_name, detail)`` words the message; ``detail`` is torch's
    complaint on one line, cut to 300 characters.
    """
    try:
        network.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:300]
        raise NeuralStyleError(describe(type(network).__name__, detail)) from None
