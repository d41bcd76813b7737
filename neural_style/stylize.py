"""stylize(image, model) -> image: the functional core."""

from __future__ import annotations

from PIL import Image

from .images import array_to_image, image_to_array, scale_image
from .model import MIN_SIDE


def stylize(image: Image.Image, model, content_scale: float | None = None) -> Image.Image:
    """Stylize an RGB image with a model from ``load_model`` (either engine).
    Deterministic; the output has the input's size after ``content_scale``
    (which shrinks the input first)."""
    content = image_to_array(scale_image(image.convert("RGB"), content_scale, MIN_SIDE))
    return array_to_image(model.stylize_pixels(content))
