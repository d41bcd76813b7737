"""Peak RSS of stylizing a 6000x4000 photo in tiles, beside an untiled 1 MP run.

    python3 dev.py run python benchmarks/tile_memory.py [--side-by-side]

Each measurement runs in a fresh subprocess (python -m neural_style eval) and
reports its peak RSS (ru_maxrss of the child, so the interpreter, torch and
the image buffers are all counted) and its wall time. The 6000x4000 input is
the sample photo (grace_hopper.jpg) upscaled, written as PNG in a temp folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from matplotlib import cbook
from PIL import Image

from neural_style import bundled_multistyle_onnx, convert


def child_run(arguments: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of one `python -m neural_style` child."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "neural_style", *arguments])
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(arguments)}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        [model] = convert(bundled_multistyle_onnx(), folder)
        photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
        big, small = folder / "big.png", folder / "small.png"
        photo.convert("RGB").resize((6000, 4000), Image.BICUBIC).save(big, compress_level=1)
        photo.convert("RGB").resize((1224, 816), Image.BICUBIC).save(small, compress_level=1)
        tiny = folder / "tiny.png"
        photo.convert("RGB").resize((128, 96), Image.BICUBIC).save(tiny)
        runs = {
            "128x96 untiled (the runtime)": [str(tiny), []],
            "1224x816 untiled (1 MP)": [str(small), []],

            "6000x4000 tiles 768 (auto)": [str(big), []],
        }
        print(f"{'job':32} | {'peak RSS':>10} | {'wall':>7}")
        for name, (image, extra) in runs.items():
            rss, wall = child_run(["eval", "--content-image", image, "--model", str(model),
                                   "--style", "3", "--output-image", str(folder / "out.png"),
                                   *extra])
            print(f"{name:32} | {rss:7.0f} MiB | {wall:6.1f}s")


if __name__ == "__main__":
    main()
