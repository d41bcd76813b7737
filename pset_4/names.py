"""Image and model names, and the output paths keyed on them.

A name is a plain file name inside ``<remote>/images`` or ``<remote>/saved_models``.
It is joined to local folders and S3 keys, so anything that could climb out of
them is refused before a task is built: path separators, a whole ``.`` or
``..``, control characters, an empty name. Dots inside a name are fine
(``photo..v2.jpg``). The command line exits 2 for a refused name.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable

import luigi

from .errors import PipelineError

FOLDERS = {"image": "images", "model": "saved_models", "style picture": "styles"}
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
    elif name.strip() in (".", ".."):
        # Only a whole "." or ".." names a folder; "photo..v2.jpg" is a plain file name.
        problem = "names a folder, not a file"
    elif any(ord(char) < 32 or ord(char) == 127 for char in name):
        problem = "contains a control character"
    if problem:
        raise PipelineError(
            f"{kind} name {name!r} {problem}; give a plain file name that exists "
            f"in the remote's {FOLDERS.get(kind, 'saved_models')} folder"
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


class StylePictureNameParameter(NameParameter):
    """A file name in ``<remote>/styles`` (--style-image), or None for the model's styles."""

    KIND = "style picture"

    def normalize(self, x):
        return None if x in (None, "") else super().normalize(x)


def style_key(style, content_scale: float | None = None, controls: str = "") -> str:
    """The readable part of an output name that says how the model was applied.

    ``style`` is an index or a blend (``3:0.5,12:0.5`` reads ``3_0.5+12_0.5``);
    ``controls`` is ``controls_key(...)``, empty for the defaults.
    """
    style = None if style is None else str(style).replace(":", "_").replace(",", "+")
    key = "style-default" if style is None else f"style-{style}"
    if content_scale is not None:
        key += f"--scale-{content_scale:g}"
    return f"{key}--{controls}" if controls else key


def controls_key(strength: float = 1.0, preserve_color: bool = False,
                 max_size: int | None = None, tile_size: int | None = None,
                 style_image: str | None = None) -> str:
    """``strength-0.5--keep-color--max-1024--tiles-512--picture-<name>``: the
    controls that differ from the defaults, so default outputs keep their names."""
    words = []
    if style_image:
        words.append(f"picture-{validate_name(style_image, 'style picture')}")
    if strength is not None and float(strength) != 1.0:
        words.append(f"strength-{float(strength):g}")
    if preserve_color:
        words.append("keep-color")
    if max_size:
        words.append(f"max-{max_size}")
    if tile_size:
        words.append(f"tiles-{tile_size}")
    return "--".join(words)


def identity_digest(**made_from) -> str:
    """A short hash of what an output is made from (content identities and parameters)."""
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:10]


def stylized_relative_path(
    image: str, model: str, style, content_scale: float | None = None,
    image_identity: str = "", model_identity: str = "", controls: str = "",
    style_image_identity: str = "",
) -> str:
    """``<image>/<model>--style-<K>[--scale-<F>][--<controls>]--<digest>.png``.

    Every parameter that changes the pixels is readable in the name, and the
    digest covers them and the content identities (ETags) of the image, the model
    and the style picture too: new bytes under the same name make a new output
    (and a new run)."""
    validate_name(image, "image")
    validate_name(model, "model")
    made_from = dict(image=image_identity, model=model_identity, style=style, scale=content_scale)
    if controls:
        made_from["controls"] = controls
    if style_image_identity:
        made_from["style_image"] = style_image_identity
    digest = identity_digest(**made_from)
    key = style_key(style, content_scale, controls)
    return posixpath.join(image, f"{model}--{key}--{digest}{STYLIZED_SUFFIX}")


def contact_sheet_relative_path(
    image: str,
    models: Iterable[str],
    styles: Iterable[int | str | None],
    content_scale: float | None = None,
    identities: dict | None = None,
    controls: dict | None = None,
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
        {"image": image, "models": models, "styles": styles, "content_scale": content_scale,
         "identities": dict(identities or {}),
         **({"controls": controls} if controls else {})},
        sort_keys=True,
    )
    digest = hashlib.sha256(significant.encode()).hexdigest()[:10]
    count = len(models) * len(styles) * len((controls or {}).get("strengths", [1]))
    return posixpath.join(image, f"contact-sheet--{count}-results--{digest}{STYLIZED_SUFFIX}")
