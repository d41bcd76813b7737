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
import re
from pathlib import Path

import torch

from csci_utils.atomic import atomic_path
from csci_utils.one_line import first_line

from . import multistyle, transformer_net
from .content import sha256_of  # noqa: F401  (conversion imports it from here)
from .errors import NeuralStyleError

CHECKPOINT_FORMAT = "neural_style.checkpoint/1"
# The state_dict key whose first axis is num_styles (None: one style), per architecture.
STYLE_TABLE = {multistyle.ARCHITECTURE: "contract.0.norm.gamma", transformer_net.ARCHITECTURE: None}


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
        # Never quote torch's message: it suggests retrying with weights_only=False.
        raise NeuralStyleError(
            f"refusing to load {path}: it is not a tensors-only checkpoint, it contains code "
            f"({_refused_global(error)}), and it was not loaded; pass a state_dict of tensors "
            "or an .onnx file"
        ) from None
    except MemoryError:
        raise NeuralStyleError(
            f"cannot read model {path}: out of memory while loading it") from None
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


def _refused_global(error: BaseException) -> str:
    found = re.search(r"GLOBAL ([\w.]+)", str(error))
    return f"a reference to {found.group(1)}" if found else "objects other than tensors"


def looks_like_onnx(path) -> bool:
    """True for an ONNX protobuf whatever its name: torch checkpoints are zip
    files ("PK") or legacy pickles (0x80); an ONNX ModelProto opens with its
    ir_version field (0x08) and parses as one."""
    with open(path, "rb") as stream:
        head = stream.read(2)
    if len(head) < 2 or head[:1] != b"\x08" or head[:2] == b"PK":
        return False
    import onnx  # only for files that look like ONNX: keep `import neural_style` light

    try:
        onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - anything unparsable is simply not ONNX
        return False
    return True


def split_checkpoint(checkpoint: dict, path: Path) -> tuple[dict, dict]:
    """(metadata, state_dict) of one of our checkpoints, checked before anything is built.

    The metadata must agree with the tensors: ``num_styles`` is what sizes the
    network, so it must be a positive int equal to the style table's length.
    """
    state_dict = checkpoint.get("state_dict")
    if not isinstance(state_dict, dict) or not state_dict or not all(
            isinstance(key, str) and isinstance(value, torch.Tensor)
            for key, value in state_dict.items()):
        raise NeuralStyleError(
            f"{path} is a {CHECKPOINT_FORMAT} checkpoint without a state_dict of tensors; "
            "reconvert it with `python -m neural_style convert`")
    metadata = {key: value for key, value in checkpoint.items() if key != "state_dict"}
    architecture = metadata.get("architecture")
    if architecture not in STYLE_TABLE:
        raise NeuralStyleError(f"{path}: unknown architecture {architecture!r}; reconvert it")
    num_styles = metadata.get("num_styles")
    if type(num_styles) is not int or num_styles < 1:
        raise NeuralStyleError(
            f"{path}: num_styles is {num_styles!r}, not a positive whole number; reconvert it")
    table = STYLE_TABLE[architecture]
    found = None
    if table is None:
        found = 1
    elif table in state_dict and state_dict[table].dim() == 2:
        found = state_dict[table].shape[0]
    if found != num_styles:
        raise NeuralStyleError(
            f"{path}: num_styles is {num_styles} but its weights hold "
            f"{'no style table' if found is None else found}; reconvert it")
    style = metadata.get("style")
    if style is not None and (type(style) is not int or not 0 <= style < num_styles):
        raise NeuralStyleError(
            f"{path}: style is {style!r}, not in 0..{num_styles - 1}; reconvert it")
    return metadata, state_dict



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
