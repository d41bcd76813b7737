"""How many threads an engine may use in this process.

``None`` (the default) lets each engine pick (onnxruntime: one per physical
core; torch: its own default). ``python -m pset_4 --workers N`` sets
cores // N, so N workers on one machine do not fight over the cores; a forked
child that inherits no setting uses one thread (see fork_safety).
"""

from __future__ import annotations

import os
import sys

_configured: int | None = None


def set_threads(count: int | None) -> None:
    """Engine threads for this process and the processes it forks (None: engine default)."""
    global _configured
    if count is not None and count < 1:
        from .errors import NeuralStyleError

        raise NeuralStyleError(f"--threads must be at least 1, got {count}")
    _configured = count
    if count is not None and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(count)


def configured() -> int | None:
    return _configured


def per_worker(workers: int) -> int:
    """Threads for each of ``workers`` processes sharing this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def forked() -> None:
    global _configured
    if _configured is None:
        _configured = 1
