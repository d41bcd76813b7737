"""Models loaded once per process and reused for every image that needs them.

Option B runs Stylize tasks inside the Luigi worker's process (with
``--workers 1`` every task shares it), so a batch of images over one model
pays for one load. The key includes the file's size and mtime: a model
re-downloaded under the same name is loaded afresh, never served stale.
"""

from __future__ import annotations

import functools
import os
from typing import Optional

MAX_MODELS = 8  # a converted model is a few MB; this bounds memory for long batches


@functools.lru_cache(maxsize=MAX_MODELS)
def _load(real_path: str, mtime_ns: int, size: int, style: Optional[int]):
    import neural_style

    return neural_style.load_model(real_path, style=style)


def cached_model(path: str, style: Optional[int] = None):
    """``neural_style.load_model(path, style)``, loaded at most once per process."""
    stat = os.stat(path)
    return _load(os.path.realpath(path), stat.st_mtime_ns, stat.st_size, style)


def models_loaded() -> int:
    """How many times this process actually loaded a model (cache misses)."""
    return _load.cache_info().misses


def forget_models() -> None:
    _load.cache_clear()
