"""Fast neural style transfer as a package.

    from neural_style import (bundled_multistyle_onnx, convert, load_image, load_model,
                              save_image, stylize)
    [checkpoint] = convert(bundled_multistyle_onnx(), "models")   # models/multistyle26.pth
    model = load_model(checkpoint, style=7)      # onnxruntime when installed, else torch
    save_image(stylize(load_image("photo.jpg"), model), "out.png")

``import neural_style`` does not import torch: the onnxruntime path never needs
it, and the names below that do (the torch networks, ``convert``) import it on
first use.
"""

from importlib import import_module

from . import fork_safety
from .architectures import NUM_STYLES
from .bundled import bundled_multistyle_onnx
from .errors import NeuralStyleError
from .images import load_image, save_image
from .model import load_model
from .stylize import stylize
from .threads import set_threads

# Names whose modules import torch (~1.2 s), loaded when first used (PEP 562).
_NEEDS_TORCH = {
    "StyleModel": "torch_engine",
    "MultiStyleNet": "multistyle",
    "TransformerNet": "transformer_net",
    "convert": "conversion",
}


def __getattr__(name):
    if name in _NEEDS_TORCH:
        return getattr(import_module(f".{_NEEDS_TORCH[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


fork_safety.register()  # forked children: one torch thread, fresh onnxruntime sessions

__all__ = [
    "NUM_STYLES",
    "MultiStyleNet",
    "NeuralStyleError",
    "StyleModel",
    "TransformerNet",
    "bundled_multistyle_onnx",
    "convert",
    "load_image",
    "load_model",
    "save_image",
    "set_threads",
    "stylize",
]
