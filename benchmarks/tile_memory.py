"""Peak RSS of stylizing a 6000x4000 photo in tiles, beside an untiled 1 MP run,
on both engines side by side.

    python3 dev.py run python benchmarks/tile_memory.py [--engine torch|onnx ...]

Each measurement runs in a fresh subprocess (python -m neural_style eval
--engine E) and reports its peak RSS (ru_maxrss of the child, so the
interpreter, the engine and the image buffers are all counted) and its wall
time. The 6000x4000 input is the sample photo (grace_hopper.jpg) upscaled,
written as PNG in a temp folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child_run(arguments: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of one `python -m neural_style` child."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "neural_style", *arguments],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(arguments)}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def prepare(folder: Path) -> None:
    """The model and the photos, made in a child of its own: Linux counts the RSS a
    child inherits at fork in its ru_maxrss, so this parent stays small (stdlib only)."""
    from matplotlib import cbook
    from PIL import Image

    from neural_style import bundled_multistyle_onnx, convert

    convert(bundled_multistyle_onnx(), folder)
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    photo.resize((6000, 4000), Image.BICUBIC).save(folder / "big.png", compress_level=1)
    photo.resize((1224, 816), Image.BICUBIC).save(folder / "small.png", compress_level=1)
    photo.resize((128, 96), Image.BICUBIC).save(folder / "tiny.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        subprocess.run([sys.executable, __file__, "--prepare", str(folder)], check=True)
        model, tiny = folder / "multistyle26.pth", folder / "tiny.png"
        runs = {
            "128x96 untiled (the runtime)": tiny,
            "1224x816 untiled (1 MP)": folder / "small.png",
            "6000x4000 tiles 768 (auto)": folder / "big.png",
        }
        engines = engines_asked()
        for engine in engines:  # unmeasured: fills the ONNX cache, as any later run finds it
            child_run(["eval", "--content-image", str(tiny), "--model", str(model), "--style",
                       "3", "--engine", engine, "--output-image", str(folder / "out.png")])
        print(f"{'job':32} | " + " | ".join(f"{engine + ' peak RSS':>16} | {'wall':>7}"
                                             for engine in engines))
        for name, image in runs.items():
            cells = []
            for engine in engines:
                rss, wall = child_run(["eval", "--content-image", str(image), "--model",
                                       str(model), "--style", "3", "--engine", engine,
                                       "--output-image", str(folder / "out.png")])
                cells.append(f"{rss:12.0f} MiB | {wall:6.1f}s")
            print(f"{name:32} | " + " | ".join(cells), flush=True)


def engines_asked() -> list[str]:
    engines = [sys.argv[i + 1] for i, word in enumerate(sys.argv[:-1]) if word == "--engine"]
    return engines or ["onnx", "torch"]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        prepare(Path(sys.argv[2]))
    else:
        main()
