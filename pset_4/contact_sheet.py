"""A contact sheet: the content image and its stylized versions in one PNG grid."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

TILE = 256          # longest side of each thumbnail, in pixels
LABEL_HEIGHT = 16
MAX_COLUMNS = 4


def _thumbnail(image: Image.Image, tile: int) -> Image.Image:
    thumb = image.convert("RGB")
    thumb.thumbnail((tile, tile), Image.Resampling.LANCZOS)
    return thumb


def make_contact_sheet(
    content: Image.Image,
    results: Sequence[tuple[str, Image.Image]],
    tile: int = TILE,
) -> Image.Image:
    """A white grid of labelled thumbnails: ``content`` first, then each ``(label, image)``."""
    cells = [("content", content), *results]
    columns = min(MAX_COLUMNS, len(cells))
    rows = math.ceil(len(cells) / columns)
    cell_height = tile + LABEL_HEIGHT
    sheet = Image.new("RGB", (columns * tile, rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (label, image) in enumerate(cells):
        left, top = (index % columns) * tile, (index // columns) * cell_height
        thumb = _thumbnail(image, tile)
        sheet.paste(thumb, (left + (tile - thumb.width) // 2, top + (tile - thumb.height) // 2))
        draw.text((left + 4, top + tile + 2), label[: tile // 6], fill="black")
    return sheet
