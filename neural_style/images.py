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

from .errors import NeuralStyleError

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
    """Read an image file as RGB (EXIF orientation applied, alpha over white)."""
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
    return image.convert("RGB")


def save_image(image: Image.Image, path_or_binary_file: str | os.PathLike | BinaryIO,
               format: str | None = None) -> None:
    """Encode ``image`` to a path or an open binary file.

    The format comes from ``format``, else from the file name's suffix. Writes
    exactly where it is told: callers wanting atomicity pass a target's
    ``temporary_path()`` or ``open('w')`` file.
    """
    image_format = (format or _format_from_name(path_or_binary_file)).upper()
    if image_format == "JPG":
        image_format = "JPEG"
    options = ENCODER_OPTIONS.get(image_format, {})
    try:
        image.convert("RGB").save(path_or_binary_file, format=image_format, **options)
    except (KeyError, ValueError, OSError) as error:
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


def scale_image(image: Image.Image, content_scale: float | None) -> Image.Image:
    """Shrink by ``content_scale`` as pytorch/examples does (LANCZOS, now that
    Pillow 10 has dropped its ANTIALIAS alias)."""
    if content_scale is None or content_scale == 1:
        return image
    if not content_scale > 0:
        raise NeuralStyleError(f"--content-scale must be a positive number, got {content_scale}")
    width, height = image.size
    size = (int(width / content_scale), int(height / content_scale))
    if min(size) < 1:
        raise NeuralStyleError(
            f"--content-scale {content_scale} shrinks a {width}x{height} image to nothing; "
            "use a smaller scale")
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
