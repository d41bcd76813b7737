"""Small test photos cut from matplotlib's sample image (tests stay <= 256 px)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from pset_4.seed import copy_sample_image

SMALL_IMAGE = "hopper-96.png"  # stylizing 96x112 px takes milliseconds


def sample_photo() -> Image.Image:
    buffer = io.BytesIO()
    copy_sample_image(buffer)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def small_photo(size: int = 96, mirror: bool = False) -> Image.Image:
    photo = sample_photo()
    photo.thumbnail((size, size * 2))
    return ImageOps.mirror(photo) if mirror else photo
