"""Fast neural style transfer as a package.

    from neural_style import (bundled_multistyle_onnx, convert, load_image, load_model,
                              save_image, stylize)
    [checkpoint] = convert(bundled_multistyle_onnx(), "models")   # models/multistyle26.pth
    model = load_model(checkpoint, style=7)
    save_image(stylize(load_image("photo.jpg"), model), "out.png")
"""

from . import fork_safety  # noqa: F401  (registers the fork handler)
from .bundled import bundled_multistyle_onnx
from .conversion import convert
from .errors import NeuralStyleError
from .images import load_image, save_image
from .model import StyleModel, load_model
from .multistyle import NUM_STYLES, MultiStyleNet
from .stylize import stylize
from .transformer_net import TransformerNet

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
    "stylize",
]
