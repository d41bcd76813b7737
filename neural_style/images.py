"""Image I/O and the image <-> tensor boundary.

``save_image`` is the one place images are encoded, so a stylization run in
process and one run as a subprocess write byte-identical files.
"""

from __future__ import annotations

import os
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from csci_utils.one_line import first_line
from csci_utils.write_errors import is_refused_write

from .errors import NeuralStyleError

# The most pixels stylized (after --content-scale). Anything above 1.5 MP runs in
# tiles (neural_style/tiles.py), whose memory grows by ~6 bytes per pixel (the
# uint8 input and output) beyond the runtime and one tile: a 6000x4000 camera
# photo peaks at ~1.5 GiB (benchmarks/tile_memory.py). This admits it, with some
# room, and bounds the time (~3 s per megapixel on 2 cores).
# Pillow's own limit (MAX_IMAGE_PIXELS, ~89 megapixels) bounds the file decoded.
MAX_NETWORK_PIXELS = 5000 * 5000
# The key in Image.info that remembers which file an image came from (for messages).
SOURCE_KEY = "neural_style.source"

# Fixed encoder settings: the same pixels always give the same bytes. For PNG,
# zlib's run-length strategy at level 1 encodes a stylized 512 px image in ~19 ms
# against ~41 ms for Pillow's default (level 6), at the same size (496 vs 497 KiB;
# plain level 1: 25 ms, 537 KiB). See docs/neural_style.md.
ENCODER_OPTIONS = {
    "PNG": {"compress_level": 1, "compress_type": zlib.Z_RLE},
    "JPEG": {"quality": 95, "subsampling": 0},
    "WEBP": {"lossless": True},
}


def load_image(path) -> Image.Image:
    """Read an image file as RGB (EXIF orientation applied, alpha over white).

    16-bit greyscale is rescaled to 8 bits (65535 -> 255), float images on the
    0..1 or 0..255 scale likewise; other ranges are refused with one line.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its pixel limit; refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                image = ImageOps.exif_transpose(opened)
                image.load()
    except FileNotFoundError:
        raise NeuralStyleError(f"image not found: {path}; check the path") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise NeuralStyleError(
            f"refusing image {path}: it is a possible decompression bomb "
            f"({first_line(error).split(', could be')[0]}, Pillow's limit); use a smaller image"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise NeuralStyleError(
            f"cannot read image {path}: {first_line(error)}; use a PNG or JPEG file") from None
    if image.mode in ("RGBA", "LA", "PA", "P"):
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    elif image.mode.startswith(("I", "F")):
        image = _to_8_bits(image, path)
    rgb = image.convert("RGB")
    rgb.info[SOURCE_KEY] = str(path)
    return rgb


def _to_8_bits(image: Image.Image, path) -> Image.Image:
    """A 16/32-bit integer or float greyscale image as 8-bit "L", rescaled."""
    values = np.asarray(image, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        raise NeuralStyleError(f"cannot read image {path}: its {image.mode} pixels are not all "
                               "finite numbers; save it as an 8-bit PNG or JPEG")
    low, high = float(values.min()), float(values.max())
    if image.mode.startswith("I;16"):
        full_scale = 65535.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        full_scale = 1.0
    elif low >= 0 and high <= 255:
        full_scale = 255.0
    elif image.mode == "I" and low >= 0 and high <= 65535:
        full_scale = 65535.0
    else:
        raise NeuralStyleError(
            f"cannot read image {path}: its {image.mode} pixels range {low:g}..{high:g}, not "
            "0..1, 0..255 or 0..65535; save it as an 8-bit PNG or JPEG")
    eight_bits = np.rint(values * (255.0 / full_scale)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(eight_bits, mode="L")


def save_image(image: Image.Image, path_or_binary_file: str | os.PathLike | BinaryIO,
               format: str | None = None) -> None:
    """Encode ``image`` to a path or an open binary file.

    The format comes from ``format``, else from the file name's suffix. Writes
    exactly where it is told: callers wanting atomicity pass a target's
    ``temporary_path()`` or ``open('w')`` file. A write the file system refuses
    (disk full, read-only) propagates as its OSError.
    """
    image_format = (format or _format_from_name(path_or_binary_file)).upper()
    if image_format == "JPG":
        image_format = "JPEG"
    options = ENCODER_OPTIONS.get(image_format, {})
    try:
        image.convert("RGB").save(path_or_binary_file, format=image_format, **options)
    except (KeyError, ValueError, OSError) as error:
        if is_refused_write(error):  # disk full, read-only: atomic_path names the final path
            raise
        raise NeuralStyleError(
            f"cannot write image {_describe(path_or_binary_file)} as {image_format}: "
            f"{first_line(error)}; use a .png or .jpg name") from None


def image_to_array(image: Image.Image) -> np.ndarray:
    """RGB image -> float32 array 1x3xHxW on the 0..1 scale."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def array_to_image(array: np.ndarray) -> Image.Image:
    """Float array 1x3xHxW (or 3xHxW) on the 0..1 scale -> RGB image, rounded
    half to even, as torch.round does."""
    pixels = np.asarray(array, dtype=np.float32).reshape(3, *array.shape[-2:])
    pixels = np.rint(np.clip(pixels, 0, 1) * np.float32(255.0)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), mode="RGB")


def image_to_tensor(image: Image.Image):
    """RGB image -> float torch tensor 1x3xHxW on the 0..1 scale."""
    import torch  # only the torch engine and its tests need tensors

    return torch.from_numpy(image_to_array(image))


def tensor_to_image(tensor) -> Image.Image:
    """Float torch tensor 1x3xHxW (or 3xHxW) on the 0..1 scale -> RGB image, rounded."""
    return array_to_image(tensor.detach().float().cpu().numpy())


def scale_image(image: Image.Image, content_scale: float | None,
                min_side: int = 1) -> Image.Image:
    """Shrink by ``content_scale`` as pytorch/examples does (LANCZOS, now that
    Pillow 10 has dropped its ANTIALIAS alias).

    The size the network will see is checked first: each side at least
    ``min_side`` pixels, and at most MAX_NETWORK_PIXELS in all (a scale below 1
    enlarges), so nothing is allocated for an image that cannot be run.
    """
    if content_scale is not None and not content_scale > 0:
        raise NeuralStyleError(f"--content-scale must be a positive number, got {content_scale}")
    width, height = image.size
    scale = 1 if content_scale is None else content_scale
    size = (int(width / scale), int(height / scale))
    name = image.info.get(SOURCE_KEY, "the content image")
    scaled = "" if scale == 1 else f" after --content-scale {content_scale:g}"
    if size[0] * size[1] > MAX_NETWORK_PIXELS:
        raise NeuralStyleError(
            f"{name} would be stylized at {size[0]}x{size[1]}{scaled}, more than the "
            f"{MAX_NETWORK_PIXELS:,} pixels allowed; use a larger --content-scale")
    if min(size) < min_side:
        raise NeuralStyleError(
            f"{name} is {size[0]}x{size[1]}{scaled}; both sides need at least {min_side} "
            "pixels: use a larger image" + (" or a smaller --content-scale" if scaled else ""))
    if scale == 1:
        return image
    return image.resize(size, Image.LANCZOS)


def _format_from_name(path_or_binary_file) -> str:
    name = getattr(path_or_binary_file, "name", path_or_binary_file)
    suffix = Path(os.fspath(name)).suffix.lower() if isinstance(name, (str, os.PathLike)) else ""
    image_format = Image.registered_extensions().get(suffix)
    if not image_format:
        raise NeuralStyleError(
            f"cannot tell the image format of {_describe(path_or_binary_file)}; "
            "use a .png or .jpg name or pass format=")
    return image_format


def _describe(path_or_binary_file) -> str:
    return str(getattr(path_or_binary_file, "name", path_or_binary_file))
