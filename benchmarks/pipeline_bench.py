"""Option B vs option A vs the raw model in a loop, on 20 photos of 512 px.

    python3 dev.py run python benchmarks/pipeline_bench.py [--images 20] [--size 512]

The photos are crops and flips of matplotlib's grace_hopper.jpg, put in a
temporary embedded store. A warm-up run seeds the store (model conversion),
fills the local cache and warms the disk cache, so the timed runs compare only
stylization. Each contender is one fresh process, timed from the outside, so
interpreter start, imports and model loading count for all three alike:

* B:   python -m pset_4 --option B --workers 1   (in-process, model loaded once)
* A:   python -m pset_4 --option A --workers 1   (one neural_style process per image)
* raw: python -c "load_model once; for each: load_image, stylize, save_image"

Goals: B <= 1.10 x raw, B <= 0.5 x A. All three must write identical bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

MODEL = "multistyle26.pth"
STYLE = 6

RAW_LOOP = r"""
import json, sys, time
import neural_style
model_path, out_dir, *images = sys.argv[1:]
model = neural_style.load_model(model_path, style=int(STYLE))
times = []
for path in images:
    start = time.perf_counter()
    result = neural_style.stylize(neural_style.load_image(path), model)
    neural_style.save_image(result, f"{out_dir}/{path.rsplit('/', 1)[-1]}.png")
    times.append(time.perf_counter() - start)
print(json.dumps(times))
""".replace("STYLE", str(STYLE))


def make_photos(images_dir: Path, count: int, size: int) -> list[str]:
    """``count`` distinct size x size crops (some mirrored or flipped) of the sample photo."""
    from pset_4.seed import copy_sample_image

    buffer = io.BytesIO()
    copy_sample_image(buffer)
    photo = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    scale = size / min(photo.size)
    photo = photo.resize((round(photo.width * scale) + count, round(photo.height * scale) + count))
    images_dir.mkdir(parents=True)
    names = []
    for index in range(count):
        left, top = index, (index * 7) % (photo.height - size + 1)
        crop = photo.crop((left, top, left + size, top + size))
        if index % 2:
            crop = ImageOps.mirror(crop)
        if index % 5 == 4:
            crop = ImageOps.flip(crop)
        name = f"bench-{index:02d}.png"
        crop.save(images_dir / name)
        names.append(name)
    return names


def cached_result(output_dir: Path, name: str) -> Path:
    """This machine's copy of a result: <output_dir>/<remote key>/stylized/<image>/<keyed name>."""
    return next(output_dir.glob(f"*/stylized/{name}/{MODEL}--style-{STYLE}--*.png"))


def run_pipeline(work: Path, names: list[str], option: str, output_dir: Path) -> float:
    command = [sys.executable, "-m", "pset_4", "--remote", str(work / "remote"),
               "--local-root", str(work / "data"), "--output-dir", str(output_dir),
               "--option", option, "--workers", "1", "--style", str(STYLE)]
    for name in names:
        command += ["-i", name]
    # Results live on the remote (the source of truth): clear them, or this run would find
    # the previous run's results done and stylize nothing. Not timed.
    shutil.rmtree(work / "remote" / "stylized", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_raw(work: Path, names: list[str], output_dir: Path) -> tuple[float, list[float]]:
    output_dir.mkdir(parents=True)
    images = [str(work / "remote" / "images" / name) for name in names]
    model = str(work / "remote" / "saved_models" / MODEL)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RAW_LOOP, model, str(output_dir), *images],
                          check=True, capture_output=True, text=True)
    return time.perf_counter() - start, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as temp:
        work = Path(temp)
        names = make_photos(work / "remote" / "images", args.images, args.size)
        print(
            f"{args.images} photos of {args.size}x{args.size}, style {STYLE}; warming up ...",
            flush=True,
        )
        warm = run_pipeline(work, names, "B", work / "warm")  # seeds, downloads, converts
        print(f"warm-up (seed + download + B): {warm:.1f} s", flush=True)

        totals = {"B": run_pipeline(work, names, "B", work / "B")}
        totals["raw"], raw_times = run_raw(work, names, work / "raw")
        totals["A"] = run_pipeline(work, names, "A", work / "A")

        identical = all(
            cached_result(work / "A", name).read_bytes()
            == cached_result(work / "B", name).read_bytes()
            == (work / "raw" / f"{name}.png").read_bytes()
            for name in names
        )
    count = args.images
    print()
    print(f"{'run':<40}{'total s':>9}{'per image s':>13}{'vs raw':>8}")
    labels = {
        "raw": "raw model in a loop (1 process)",
        "B": "python -m pset_4 --option B (1 worker)",
        "A": "python -m pset_4 --option A (1 worker)",
    }
    for key in ("raw", "B", "A"):
        print(f"{labels[key]:<40}{totals[key]:>9.2f}{totals[key] / count:>13.3f}"
              f"{totals[key] / totals['raw']:>8.2f}")
    print(f"raw loop, stylize+save only, per image: {sum(raw_times) / count:.3f} s "
          f"(min {min(raw_times):.3f}, max {max(raw_times):.3f})")
    b_raw, b_a = totals["B"] / totals["raw"], totals["B"] / totals["A"]
    print(f"B / raw = {b_raw:.2f}  (goal <= 1.10: {'met' if b_raw <= 1.10 else 'NOT met'})")
    print(f"B / A   = {b_a:.2f}  (goal <= 0.50: {'met' if b_a <= 0.50 else 'NOT met'})")
    print(f"outputs of A, B and raw byte-identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
