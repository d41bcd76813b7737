"""Option B with --workers 1 vs --workers 2, side by side, on a few small photos.

    python3 dev.py run python benchmarks/pipeline_workers_bench.py \
        [--images 6] [--size 256] [--rounds 2]

Each run is one fresh ``python -m pset_4 --option B`` process timed from the
outside, into its own empty output folder, after a warm-up run that seeds the
store and fills the local cache. Rounds alternate the two settings so a busy
machine hurts both alike. The outputs must be byte-identical.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline_bench import STYLE, cached_result, make_photos


def run_pipeline(work: Path, names: list[str], workers: int, output_dir: Path) -> float:
    command = [sys.executable, "-m", "pset_4", "--remote", str(work / "remote"),
               "--local-root", str(work / "data"), "--output-dir", str(output_dir),
               "--option", "B", "--workers", str(workers), "--style", str(STYLE)]
    for name in names:
        command += ["-i", name]
    # Results live on the remote (the source of truth): clear them, or this run would find
    # the previous run's results done and stylize nothing. Not timed.
    shutil.rmtree(work / "remote" / "stylized", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as temp:
        work = Path(temp)
        names = make_photos(work / "remote" / "images", args.images, args.size)
        run_pipeline(work, names, 1, work / "warm")
        for round_ in range(args.rounds):
            for workers in (1, 2):
                times[workers].append(
                    run_pipeline(work, names, workers, work / f"w{workers}-{round_}")
                )
        identical = all(
            len({cached_result(work / f"w{workers}-{round_}", name).read_bytes()
                 for workers in (1, 2) for round_ in range(args.rounds)}) == 1
            for name in names
        )
    best = {workers: min(runs) for workers, runs in times.items()}
    print(
        f"{args.images} photos of {args.size}x{args.size}, option B, best of {args.rounds} rounds"
    )
    for workers, runs in times.items():
        print(
            f"--workers {workers}: best {best[workers]:.2f} s  (runs: "
            f"{', '.join(f'{t:.2f}' for t in runs)})"
        )
    print(f"workers 2 / workers 1 = {best[2] / best[1]:.2f}")
    print(f"outputs byte-identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
