"""Image and model names, and the output paths keyed on them.

A name is a plain file name inside ``<remote>/images`` or ``<remote>/saved_models``.
It is joined to local folders and S3 keys, so anything that could climb out of
them (separators, ``..``) is refused before a task is built.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable

import luigi

from .errors import PipelineError

STYLIZED_SUFFIX = ".png"  # lossless, so options A and B can be compared byte for byte


def validate_name(name: str, kind: str) -> str:
    """Return ``name`` if it is a safe file name; raise PipelineError otherwise.

    ``kind`` ("image", "model") only words the message.
    """
    if not isinstance(name, str) or not name.strip():
        raise PipelineError(f"the {kind} name is empty; give a file name such as photo.jpg")
    problem = None
    if "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif ".." in name:
        problem = "contains '..'"
    elif any(ord(char) < 32 or ord(char) == 127 for char in name):
        problem = "contains a control character"
    if problem:
        raise PipelineError(
            f"{kind} name {name!r} {problem}; give a plain file name that exists "
            f"in the remote's {'images' if kind == 'image' else 'saved_models'} folder"
        )
    return name


class NameParameter(luigi.Parameter):
    """A file name in one of the remote's folders; validated by ``validate_name``."""

    KIND = ""

    def normalize(self, x):
        return validate_name(x, self.KIND)


class ImageNameParameter(NameParameter):
    """A file name in ``<remote>/images``; separators and ``..`` are refused."""

    KIND = "image"


class ModelNameParameter(NameParameter):
    """A file name in ``<remote>/saved_models``; separators and ``..`` are refused."""

    KIND = "model"


def style_key(style: int | None, content_scale: float | None = None) -> str:
    """The readable part of an output name that says how the model was applied."""
    key = "style-default" if style is None else f"style-{style}"
    if content_scale is not None:
        key += f"--scale-{content_scale:g}"
    return key


def stylized_relative_path(
    image: str, model: str, style: int | None, content_scale: float | None = None
) -> str:
    """``<image>/<model>--style-<K>.png``: every parameter that changes the pixels
    is in the path, so changing one of them makes a new output (and a new run)."""
    validate_name(image, "image")
    validate_name(model, "model")
    return posixpath.join(image, f"{model}--{style_key(style, content_scale)}{STYLIZED_SUFFIX}")


def contact_sheet_relative_path(
    image: str,
    models: Iterable[str],
    styles: Iterable[int | None],
    content_scale: float | None = None,
) -> str:
    """``<image>/contact-sheet--<N>-results--<hash>.png``.

    A sheet depends on every (model, style) it shows; too many to spell out, so
    they are hashed (gokart-style), with the count left readable.
    """
    validate_name(image, "image")
    models, styles = list(models), list(styles)
    for model in models:
        validate_name(model, "model")
    significant = json.dumps(
        {"image": image, "models": models, "styles": styles, "content_scale": content_scale},
        sort_keys=True,
    )
    digest = hashlib.sha256(significant.encode()).hexdigest()[:10]
    count = len(models) * len(styles)
    return posixpath.join(image, f"contact-sheet--{count}-results--{digest}{STYLIZED_SUFFIX}")
