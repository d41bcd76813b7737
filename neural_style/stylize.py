"""stylize(image, model) -> image: the functional core."""

from __future__ import annotations

import torch
from PIL import Image

from .images import image_to_tensor, scale_image, tensor_to_image
from .model import MIN_SIDE, StyleModel


def stylize(image: Image.Image, model: StyleModel,
            content_scale: float | None = None) -> Image.Image:
    """Stylize an RGB image. Deterministic; the output has the input's size
    after ``content_scale`` (which shrinks the input first)."""
    content = image_to_tensor(scale_image(image.convert("RGB"), content_scale, MIN_SIDE))
    with torch.inference_mode():
        stylized = model(content.to(model.device))
    return tensor_to_image(stylized)
