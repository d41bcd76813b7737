"""The controls people expect from a style tool, around ``stylize``.

* **style blends**: ``"3:0.5,12:0.5"`` -> normalised weights fed to the Magenta
  net's own style-weight vector (its conditional instance norm takes any
  convex combination of the 26 styles); ``"3:1"`` is ``"3"``;
* **strength** 0..1: a pixel blend of content and stylized image (0 gives the
  content back exactly, 1 the full style);
* **preserve colour**: luminance (Y of YCbCr) from the stylized image, chroma
  (Cb, Cr) from the content;
* **max size**: the longer side is shrunk to at most N pixels (LANCZOS) first;
* **tiles**: see ``neural_style/tiles.py``.

``parse_style`` and ``check_*`` raise a one-line NeuralStyleError naming the
option, so the CLI and the pipeline reject bad values before anything runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .errors import NeuralStyleError

NUM_STYLES = 26  # the Magenta net's table; a checkpoint with another count is checked at load
MIN_SIDE = 8


@dataclass(frozen=True)
class StyleBlend:
    """Normalised style weights, ``((index, weight), ...)`` sorted by index."""

    weights: tuple[tuple[int, float], ...]

    @property
    def first(self) -> int:
        return self.weights[0][0]

    def vector(self, num_styles: int) -> np.ndarray:
        vector = np.zeros(num_styles, np.float32)
        for index, weight in self.weights:
            if index >= num_styles:
                raise NeuralStyleError(
                    f"--style {index} is out of range for this model; use 0..{num_styles - 1}")
            vector[index] = weight
        return vector

    def __str__(self) -> str:
        """``3`` for one style, else ``3:0.5,12:0.5`` with the normalised weights."""
        if len(self.weights) == 1:
            return str(self.first)
        return ",".join(f"{index}:{weight:.4g}" for index, weight in self.weights)


def parse_style(spec, num_styles: int = NUM_STYLES) -> StyleBlend | None:
    """``7``, ``"7"``, ``"3:0.5,12:0.5"`` or ``{3: 1, 12: 1}`` -> StyleBlend (None stays None)."""
    if spec is None or isinstance(spec, StyleBlend):
        return spec
    if isinstance(spec, dict):
        parts = list(spec.items())
    elif isinstance(spec, (int, np.integer)):
        parts = [(spec, 1.0)]
    else:
        parts = []
        for part in str(spec).split(","):
            index, _, weight = part.strip().partition(":")
            parts.append((index, weight or "1"))
    totals: dict[int, float] = {}
    for index, weight in parts:
        try:
            index, weight = int(index), float(weight)
        except (TypeError, ValueError):
            raise NeuralStyleError(
                f"bad --style {spec!s}: use an index like 7 or weights like 3:0.5,12:0.5"
            ) from None
        if not 0 <= index < num_styles:
            raise NeuralStyleError(f"--style {index} is out of range; use 0..{num_styles - 1}")
        if not (weight >= 0 and np.isfinite(weight)):
            raise NeuralStyleError(f"bad --style {spec!s}: weights must be finite and >= 0")
        totals[index] = totals.get(index, 0.0) + weight
    total = sum(totals.values())
    if not total > 0:
        raise NeuralStyleError(f"bad --style {spec!s}: the weights add up to 0")
    return StyleBlend(tuple((index, weight / total) for index, weight in sorted(totals.items())
                            if weight > 0))


def check_strength(strength) -> float:
    strength = 1.0 if strength is None else float(strength)
    if not 0.0 <= strength <= 1.0:
        raise NeuralStyleError(f"--strength must be between 0 and 1, got {strength:g}")
    return strength


def check_size(option: str, value, minimum: int = MIN_SIDE) -> int | None:
    if value is None:
        return None
    if int(value) != value or value < minimum:
        raise NeuralStyleError(f"{option} must be a whole number >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class Controls:
    """Every control, validated. ``style`` is None for a single-style model."""

    style: StyleBlend | None = None
    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None
    tile_size: int | None = None

    @classmethod
    def of(cls, style=None, strength=None, preserve_color=False, max_size=None,
           tile_size=None) -> Controls:
        from .tiles import MIN_TILE

        return cls(parse_style(style), check_strength(strength), bool(preserve_color),
                   check_size("--max-size", max_size), check_size("--tile-size", tile_size,
                                                                   MIN_TILE))

    def describe(self) -> str:
        """The status line's words: ``style 3:0.5,12:0.5, strength 0.8, ...``."""
        words = [] if self.style is None else [f"style {self.style}"]
        if self.strength != 1:
            words.append(f"strength {self.strength:g}")
        if self.preserve_color:
            words.append("preserve colour")
        if self.max_size:
            words.append(f"max size {self.max_size}")
        if self.tile_size:
            words.append(f"tiles {self.tile_size}")
        return ", ".join(words)


def with_style_weights(model, blend: StyleBlend | None):
    """A shallow copy of ``model`` whose style-weight vector is ``blend``'s.

    Works on either engine: the torch engine keeps the vector as a buffer, the
    onnxruntime engine as a numpy array fed to the graph. The original model
    (perhaps cached and shared) is left as it is.
    """
    current = getattr(model, "style_weights", None)
    if blend is None or current is None:
        return model
    vector = blend.vector(len(current))
    blended = copy.copy(model)
    if isinstance(current, np.ndarray):
        blended.style_weights = vector
    else:  # a torch buffer: give the copy its own buffer table
        import torch  # only a torch-engine model gets here

        blended._buffers = dict(model._buffers)
        blended.style_weights = torch.as_tensor(vector, dtype=current.dtype,
                                                device=current.device)
    blended.style = blend.first if len(blend.weights) == 1 else str(blend)
    return blended


def fit_max_size(image: Image.Image, max_size: int | None) -> Image.Image:
    width, height = image.size
    if not max_size or max(width, height) <= max_size:
        return image
    scale = max_size / max(width, height)
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return image.resize(size, Image.LANCZOS)


def keep_color(stylized: Image.Image, content: Image.Image) -> Image.Image:
    """Y from ``stylized``, Cb and Cr from ``content`` (same size)."""
    luminance = stylized.convert("YCbCr").getchannel("Y")
    _, blue, red = content.convert("YCbCr").split()
    return Image.merge("YCbCr", (luminance, blue, red)).convert("RGB")


def mix(stylized: Image.Image, content: Image.Image, strength: float) -> Image.Image:
    """strength * stylized + (1 - strength) * content; 0 and 1 are exact."""
    if strength >= 1:
        return stylized
    if strength <= 0:
        return content.copy()
    return Image.blend(content, stylized, strength)


def stylize_with_controls(image: Image.Image, model, controls: Controls,
                          content_scale: float | None = None) -> Image.Image:
    """``stylize`` with every control: size limit, blend, tiles, colour, strength."""
    from .images import scale_image
    from .stylize import stylize
    from .tiles import needs_tiles, stylize_tiled

    image = image if image.mode == "RGB" else image.convert("RGB")  # no copy of a big photo
    content = scale_image(fit_max_size(image, controls.max_size), content_scale)
    model = with_style_weights(model, controls.style)
    if hasattr(model, "style_vector"):  # ArbitraryStyle: a fixed 384 px network, never tiled
        stylized = model.stylize(content)
    elif needs_tiles(content.size, controls.tile_size):
        stylized = stylize_tiled(content, model, controls.tile_size)
    else:
        stylized = stylize(content, model)
    if controls.preserve_color:
        stylized = keep_color(stylized, content)
    return mix(stylized, content, controls.strength)
