#!/usr/bin/env python3
"""Upload and download a 256 MB file through csci_utils.luigi's Upload/Download tasks
and with ``aws s3 cp``, side by side against the same moto S3 server.

    python3 dev.py run python benchmarks/transfer_bench.py [--size-mb 256] [--rounds 2]

moto runs in its own process so neither client pays for the server's CPU or
memory in its own figures. Both clients use 8 MiB parts and 10 threads. Prints
the best wall time of each side, the ratios (ours / aws; target <= 1.1) and the
peak RSS of this process, which ran the Luigi tasks (target < 150 MB), next to
the aws process's peak.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the same moto launcher the tests use

import luigi  # noqa: E402

from csci_utils.luigi import Download, Upload  # noqa: E402
from csci_utils.luigi.integrity import file_digests  # noqa: E402
from fixtures.s3 import S3ServerProcess, s3_environment  # noqa: E402

MiB = 1024 * 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def write_random_file(path: Path, size_mb: int) -> None:
    with open(path, "wb") as stream:
        for _ in range(size_mb):
            stream.write(os.urandom(MiB))


def run_aws(*args: str) -> tuple[float, float]:
    """Run the aws CLI; return (seconds, its peak RSS in MB)."""
    program = shutil.which(
        "aws", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    start = time.perf_counter()
    process = subprocess.Popen([program, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(
            f"aws {' '.join(args)} failed with exit {os.waitstatus_to_exitcode(status)}"
        )
    return elapsed, usage.ru_maxrss / 1024


def aws_cp(source: str, destination: str) -> tuple[float, float]:
    return run_aws("s3", "cp", "--only-show-errors", source, destination)


def luigi_run(task: luigi.Task) -> float:
    start = time.perf_counter()
    ok = luigi.build([task], local_scheduler=True, log_level="ERROR")
    elapsed = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"{task} failed")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="transfer-bench-"))
    server = S3ServerProcess()
    try:
        with s3_environment(server.endpoint_url):
            bucket = server.create_bucket("transfer-bench")
            source_root = work / "source"
            source_root.mkdir()
            source = source_root / "big.bin"
            write_random_file(source, args.size_mb)
            expected = file_digests(str(source))["sha256"]
            rss_before = peak_rss_mb()
            times: dict[str, list[float]] = {
                k: [] for k in ("aws up", "ours up", "aws down", "ours down")
            }
            aws_peak = 0.0
            for round_number in range(args.rounds):
                root = f"s3://{bucket}/round{round_number}"
                seconds, rss = aws_cp(str(source), f"{root}/aws/big.bin")
                times["aws up"].append(seconds)
                aws_peak = max(aws_peak, rss)
                times["ours up"].append(
                    luigi_run(
                        Upload(
                            remote_root=f"{root}/ours", local_root=str(source_root), name="big.bin"
                        )
                    )
                )

                aws_copy = work / f"aws{round_number}" / "big.bin"
                seconds, rss = aws_cp(f"{root}/aws/big.bin", str(aws_copy))
                times["aws down"].append(seconds)
                aws_peak = max(aws_peak, rss)
                ours_root = work / f"ours{round_number}"
                times["ours down"].append(
                    luigi_run(
                        Download(
                            remote_root=f"{root}/ours", local_root=str(ours_root), name="big.bin"
                        )
                    )
                )
                for copy in (aws_copy, ours_root / "big.bin"):
                    assert file_digests(str(copy))["sha256"] == expected, (
                        f"{copy} differs from the source"
                    )
                    copy.unlink()
            best = {name: min(values) for name, values in times.items()}
            # What every `aws` call pays before moving a byte: interpreter, imports, one request.
            startup = min(run_aws("s3api", "head-bucket", "--bucket", bucket)[0] for _ in range(3))
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)

    size = args.size_mb
    print(
        f"transfer benchmark: {size} MB, moto S3 in a separate process, best of {args.rounds} "
        "rounds"
    )
    print(f"{'':10}{'aws s3 cp':>12}{'ours':>12}{'ratio':>9}{'ratio w/o aws start-up':>25}")
    for direction in ("up", "down"):
        aws, ours = best[f"aws {direction}"], best[f"ours {direction}"]
        print(
            f"{direction + 'load':10}{aws:>10.2f} s{ours:>10.2f} s{ours / aws:>9.2f}"
            f"{ours / max(aws - startup, 1e-9):>25.2f}   (ours {size / ours:.0f} MB/s, aws "
            f"{size / aws:.0f} MB/s)"
        )
    print(f"aws start-up (`aws s3api head-bucket`, best of 3): {startup:.2f} s; "
          "the first ratio is the one the target applies to")
    print(f"peak RSS: this process (Luigi tasks) {peak_rss_mb():.0f} MB "
          f"(after imports, before transfers: {rss_before:.0f} MB); aws s3 cp {aws_peak:.0f} MB")
    print("targets: ratio <= 1.1, peak RSS < 150 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
