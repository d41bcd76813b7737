"""Stylize big images in overlapping tiles with feathered seams.

Instance normalisation makes each tile pick its own colours unless every tile
normalises with the same statistics. So:

1. **statistics pass**: the whole image, shrunk to at most ``STATS_PIXELS``
   (not shrunk at all when it fits), runs through the network once while every
   instance norm records its per-channel mean and (biased) variance;
2. **tile passes**: each tile of ``tile_size`` pixels (``OVERLAP`` more on
   each inner side) runs with every norm replaying those statistics, so the
   tiles agree in colour and contrast, and the overlaps are cross-faded with
   linear ramps (the weights are separable, so they are normalised with two 1-D
   sums and no full-size weight image).

Memory: besides the input and output images (uint8), one float32 band of tile
rows (width x (tile + 2 x OVERLAP) x 12 bytes) and one tile's activations.
Images above ``AUTO_TILE_PIXELS`` are tiled even without ``--tile-size``
(tiles of ``DEFAULT_TILE``). See docs/neural_style.md.

Both engines tile: on torch the norm modules' forward is swapped (``_norms``);
on onnxruntime the graph is rewritten into a recording and a replaying variant
(neural_style/onnx_tiles.py). Each engine gives ``record(pixels)`` and
``replay(pixels, statistics)`` (``shared_norms``); the tiling is the same.
"""

from __future__ import annotations

import contextlib
import math
import types

import numpy as np
from PIL import Image

from .errors import NeuralStyleError

AUTO_TILE_PIXELS = 1_500_000  # above this, tile: an untiled 1 MP run already peaks near 1 GiB
DEFAULT_TILE = 768
STATS_PIXELS = 500_000
OVERLAP = 64  # per seam, a multiple of ALIGN; the feather ramp spans it
MIN_TILE = 2 * OVERLAP
NORM_EPS = 1e-5
ALIGN = 4  # the networks' total stride


def needs_tiles(size: tuple[int, int], tile_size: int | None) -> bool:
    width, height = size
    if tile_size:
        return max(width, height) > tile_size
    return width * height > AUTO_TILE_PIXELS


def stylize_tiled(image: Image.Image, model, tile_size: int | None = None) -> Image.Image:
    """Stylize ``image`` tile by tile with whole-image normalisation statistics."""
    norms = shared_norms(model)
    tile = tile_size or DEFAULT_TILE
    width, height = image.size
    statistics = norms.record(_pixels(_stats_image(image).convert("RGB")))
    rows, columns = _spans(height, tile), _spans(width, tile)
    row_sum, column_sum = _weight_sums(rows, height), _weight_sums(columns, width)
    result = np.empty((height, width, 3), np.uint8)
    carry, carry_top = None, 0  # rows of the previous band that the next one overlaps
    for index, (top, bottom, row_weight) in enumerate(rows):
        # One band of tile rows in float32 at a time, not the whole image.
        band = np.zeros((bottom - top, width, 3), np.float32)
        if carry is not None:
            band[carry_top - top:carry_top - top + len(carry)] += carry
        for left, right, column_weight in columns:
            piece = _pixels(image.crop((left, top, right, bottom)))
            stylized = norms.replay(piece, statistics).transpose(1, 2, 0)
            stylized *= row_weight[:, None, None] * column_weight[None, :, None]
            band[:, left:right] += stylized
        done = rows[index + 1][0] if index + 1 < len(rows) else bottom
        result[top:done] = _finish(band[:done - top], row_sum[top:done], column_sum)
        carry, carry_top = band[done - top:], done
    return Image.fromarray(result, mode="RGB")


def shared_norms(model):
    """The engine's ``record(pixels)`` / ``replay(pixels, statistics) -> 3xHxW``."""
    if getattr(model, "engine", None) == "onnx":
        from .onnx_tiles import OnnxNorms

        return OnnxNorms(model)
    return TorchNorms(model)


def _finish(band: np.ndarray, row_sum: np.ndarray, column_sum: np.ndarray) -> np.ndarray:
    """Weighted sums -> uint8 pixels, rounded as tensor_to_image rounds."""
    band /= row_sum[:, None, None]
    band /= column_sum[None, :, None]
    np.clip(band, 0, 1, out=band)
    band *= 255
    return np.rint(band, out=band).astype(np.uint8)


class Statistics:
    """Per-norm (mean, variance) in call order, recorded once, replayed per tile."""

    def __init__(self):
        self.values: list = []
        self.position = 0

    def rewind(self) -> None:
        self.position = 0

    def next(self):
        if self.position >= len(self.values):
            raise NeuralStyleError("tile pass ran more norms than the statistics pass; "
                                   "this network cannot be tiled")
        value = self.values[self.position]
        self.position += 1
        return value


class TorchNorms:
    """Tiles on the torch engine: every norm module records, then replays."""

    def __init__(self, model):
        import torch  # only a torch-engine model gets here

        if not isinstance(getattr(model, "network", None), torch.nn.Module):
            raise NeuralStyleError(f"tiles need the torch or onnx engine, not "
                                   f"{getattr(model, 'engine', type(model).__name__)}")
        self.model = model

    def record(self, pixels: np.ndarray) -> Statistics:
        statistics = Statistics()
        with _norms(self.model.network, record=statistics):
            self.model.stylize_pixels(pixels)
        return statistics

    def replay(self, pixels: np.ndarray, statistics: Statistics) -> np.ndarray:
        statistics.rewind()
        with _norms(self.model.network, replay=statistics):
            return self.model.stylize_pixels(pixels)[0]


@contextlib.contextmanager
def _norms(network, record: Statistics | None = None, replay: Statistics | None = None):
    """Swap every instance norm's forward for one that records or replays statistics."""
    import torch

    from .multistyle import ConditionalInstanceNorm

    def normalise(x, affine):
        if record is not None:
            mean = x.mean(dim=(0, 2, 3))
            variance = x.var(dim=(0, 2, 3), unbiased=False)
            record.values.append((mean, variance))
        else:
            mean, variance = replay.next()
        scale = torch.rsqrt(variance + NORM_EPS)
        weight, bias = affine
        if weight is not None:
            scale = scale * weight
        shift = -mean * scale + (0 if bias is None else bias)
        return x * scale[None, :, None, None] + shift[None, :, None, None]

    def conditional(self, x, style_weights):
        return normalise(x, (style_weights @ self.gamma, style_weights @ self.beta))

    def plain(self, x):
        return normalise(x, (self.weight, self.bias))

    swapped = []
    for module in network.modules():
        if isinstance(module, ConditionalInstanceNorm):
            module.forward = types.MethodType(conditional, module)
        elif isinstance(module, torch.nn.InstanceNorm2d):
            module.forward = types.MethodType(plain, module)
        else:
            continue
        swapped.append(module)
    try:
        yield
    finally:
        for module in swapped:
            del module.forward  # back to the class's forward


def _stats_image(image: Image.Image) -> Image.Image:
    width, height = image.size
    if width * height <= STATS_PIXELS:
        return image
    scale = math.sqrt(STATS_PIXELS / (width * height))
    return image.resize((max(8, round(width * scale)), max(8, round(height * scale))),
                        Image.BILINEAR)


def _spans(length: int, tile: int) -> list[tuple[int, int, np.ndarray]]:
    """(start, stop, feather weights) of the tiles along one axis.

    Tiles hold ``tile`` pixels of their own plus up to OVERLAP on each inner
    side; the weights ramp linearly across each overlap with a neighbour.
    """
    if length <= tile:
        return [(0, length, np.ones(length, np.float32))]
    count = math.ceil(length / tile)
    # Tile starts on multiples of 4: the network downsamples by 4, so a tile
    # shifted by another amount sees a different stride grid (~8/255 off).
    edges = [ALIGN * round(i * length / count / ALIGN) for i in range(count)] + [length]
    spans = []
    for i in range(count):
        start = max(0, edges[i] - OVERLAP)
        stop = min(length, edges[i + 1] + OVERLAP)
        weight = np.ones(stop - start, np.float32)
        ramp = np.linspace(0, 1, 2 * OVERLAP + 2, dtype=np.float32)[1:-1]
        if i > 0:
            weight[:2 * OVERLAP] = ramp
        if i < count - 1:
            weight[-2 * OVERLAP:] = ramp[::-1]
        spans.append((start, stop, weight))
    return spans


def _weight_sums(spans, length: int) -> np.ndarray:
    total = np.zeros(length, np.float32)
    for start, stop, weight in spans:
        total[start:stop] += weight
    return total


def _pixels(image: Image.Image) -> np.ndarray:
    """1x3xHxW float32 in 0..1, as both engines' stylize_pixels take."""
    array = np.asarray(image).astype(np.float32).transpose(2, 0, 1)[None] / np.float32(255)
    return np.ascontiguousarray(array)
