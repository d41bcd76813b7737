#!/usr/bin/env python3
"""Thousands of small images: what ``python -m pset_4`` pays per image beyond the model.

    python3 dev.py run python benchmarks/scale_bench.py [--sizes 500 2000 8000]
        [--stores folder s3] [--schedulers local luigid] [--px 64] [--browser]
    PYTHONPATH=/other/checkout python3 dev.py run python benchmarks/scale_bench.py \\
        --names --sizes 500 2000 --stores folder --schedulers local      # "before"

For each N, N distinct crops of matplotlib's grace_hopper.jpg (``--px`` square,
PNG) are put on a remote (a folder, or moto's S3 server in this process on
127.0.0.1). Each run is one fresh process, timed from outside with ``os.wait4``
(wall, peak RSS), one style (6):

* raw loop     python -c "load_model once; for each: load_image, stylize, save_image"
               on the same files, local disk, nothing else
* cold         python -m pset_4 -i 'scale-*' (or every name with --names): nothing
               on the remote's stylized/, nothing in the local cache
* warm         the same command again: everything is done

Nothing is deleted until the end: each run has its own remote (the images hard-linked),
cache and output folders. On this machine's ext4, which has no journal, a file or
folder made within 30 s of many deletions costs about 0.5 ms of CPU (the allocator
skips recently deleted inodes, reading each one's inode block): with the previous
run's files deleted just before, 18% of a 500-image run's CPU went there, 0.6%
without (perf). A pipeline run makes six files and folders per image, the raw loop one.

Printed per run: seconds, ms per image, the overhead per image over the raw loop
(goal <= 5 ms on the local scheduler, <= 15 ms on luigid), peak RSS, and for S3
the requests per image by kind, counted from moto's request log (goal, cold:
one GET + one PUT per image plus one listing per 1,000 keys; warm: listings
only). Then the per-image cost at the largest N against the smallest (goal <=
1.25). ``--browser`` opens luigid's visualizer in Debian's chromium after the
largest luigid run and times how long its task list takes to show the tasks.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# PYTHONPATH (another checkout, for "before") stays ahead of this repo; then the
# tests' fixtures (moto, luigid, chromium).
sys.path.insert(
    1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(REPO)
)
sys.path += [str(REPO / "tests"), str(REPO / "tests" / "luigid"), str(REPO / "benchmarks")]

MODEL = "multistyle26.pth"
STYLE = 6

RAW_LOOP = r"""
import sys
import neural_style
model_path, out_dir, *images = sys.argv[1:]
model = neural_style.load_model(model_path, style=STYLE)
for path in images:
    result = neural_style.stylize(neural_style.load_image(path), model)
    neural_style.save_image(result, f"{out_dir}/{path.rsplit('/', 1)[-1]}.png")
""".replace("STYLE", str(STYLE))


# Runs ``-m module args`` or ``-c code args`` and prints the process's own peak RSS on
# stderr at exit. (VmHWM belongs to the process's memory after exec; wait4's
# ru_maxrss would carry over this benchmark's own, larger RSS from the fork.)
PEAK_REPORTED = r"""
import atexit, runpy, sys
def peak():
    with open('/proc/self/status') as status:
        kb = next(line.split()[1] for line in status if line.startswith('VmHWM:'))
    sys.stderr.write(f'\nPEAK_KB {kb}\n')
atexit.register(peak)
kind, what, *sys.argv[1:] = sys.argv[1:]
if kind == '-m':
    sys.argv[0] = what
    runpy.run_module(what, run_name='__main__', alter_sys=True)
else:
    exec(compile(what, '<raw loop>', 'exec'))
"""
PEAK = re.compile(r"^PEAK_KB (\d+)$", re.MULTILINE)


def make_photos(folder: Path, count: int, px: int) -> list[str]:
    """``count`` distinct px x px crops of the sample photo, named scale-00000.png ..."""
    from PIL import Image, ImageOps

    from pset_4.seed import copy_sample_image

    buffer = io.BytesIO()
    copy_sample_image(buffer)
    photo = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    folder.mkdir(parents=True, exist_ok=True)
    across = photo.width - px
    names = []
    for index in range(count):
        left, top = index % across, (index // across * 5) % (photo.height - px)
        crop = photo.crop((left, top, left + px, top + px))
        if index % 2:
            crop = ImageOps.mirror(crop)
        name = f"scale-{index:05d}.png"
        path = folder / name
        if not path.exists():
            crop.save(path)
        names.append(name)
    return names


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Run ``command`` (a PEAK_REPORTED one); (wall seconds, its peak RSS in MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:6])} ... exited {process.returncode}:\n{err[-3000:]}")
    peaks = PEAK.findall(err)
    return wall, int(peaks[-1]) / 1024 if peaks else usage.ru_maxrss / 1024


def pset_4_command(remote: str, work: Path, names: list[str], by_name: bool,
                   *options: str) -> list[str]:
    command = [sys.executable, "-c", PEAK_REPORTED, "-m", "pset_4", "--remote", remote,
               "--local-root", str(work / "data"), "--output-dir", str(work / "out"),
               "--no-seed", "--style", str(STYLE), *options]
    if by_name:
        for name in names:
            command += ["-i", name]
    else:
        command += ["-i", "scale-*"]
    return command


def seed_model(scratch: Path) -> Path:
    """The bundled model, converted once (SeedStore into a scratch folder remote)."""
    import luigi

    from pset_4.tasks.data import SeedStore

    remote = scratch / "seed-remote"
    assert luigi.build([SeedStore(remote_root=str(remote), local_root=str(scratch / "seed"))],
                       local_scheduler=True, log_level="WARNING")
    return remote / "saved_models" / MODEL


def folder_remote(scratch: Path, name: str, sources: Path, names: list[str], model: Path) -> str:
    remote = scratch / name
    (remote / "images").mkdir(parents=True)
    (remote / "saved_models").mkdir()
    for name in names:
        os.link(sources / name, remote / "images" / name)
    shutil.copy(model, remote / "saved_models" / MODEL)
    return str(remote)


def s3_remote(client, name: str, sources: Path, names: list[str], model: Path) -> str:
    bucket = name
    client.create_bucket(Bucket=bucket)
    for name in names:
        client.put_object(Bucket=bucket, Key=f"p/images/{name}",
                          Body=(sources / name).read_bytes())
    client.upload_file(str(model), bucket, f"p/saved_models/{MODEL}")
    return f"s3://{bucket}/p"


def browser_check(url: str, profile: Path) -> str:
    """Open the visualizer; how long until its task list shows the batch's tasks."""
    from luigid_browser import visualiser_page

    start = time.perf_counter()
    with visualiser_page(url, profile) as page:
        page.locator("#taskTable tbody tr").first.wait_for(timeout=60_000)
        loaded = time.perf_counter() - start
        rows = page.locator("#taskTable tbody tr").count()
        info = page.locator("#taskTable_info").inner_text()
    return f"visualizer task list loaded in {loaded:.1f} s: {rows} rows shown ({info})"


HEADER = (f"{'store':<8}{'scheduler':<10}{'images':>7}{'cold s':>8}{'ms/img':>8}{'over raw':>9}"
          f"{'warm s':>8}{'peak MiB':>9}  requests per image (cold | warm); moto's CPU")


def format_row(row: tuple, raw: dict) -> str:
    store, scheduler, count, cold, rss, warm, cold_req, warm_req, server_cpu = row
    over = "" if store == "raw loop" else f"{(cold - raw[count]) / count * 1000:>9.2f}"
    requests = ""
    if cold_req is not None:
        requests = " ".join(f"{kind} {value / count:.3f}" for kind, value in sorted(
            cold_req.items()))
        if warm_req is not None:
            requests += " | " + " ".join(f"{kind} {value / count:.4f}" for kind, value in
                                         sorted(warm_req.items()))
    if server_cpu is not None:  # the S3 server's share of the 2 cores, not the pipeline's
        requests += f"; moto {server_cpu / count * 1000:.2f} ms/img of CPU"
    return (f"{store:<8}{scheduler:<10}{count:>7}{cold:>8.1f}{cold / count * 1000:>8.2f}"
            f"{over:>9}{'' if warm is None else f'{warm:.1f}':>8}{rss:>9.0f}  {requests}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 8000])
    parser.add_argument("--stores", nargs="+", choices=("folder", "s3"), default=["folder", "s3"])
    parser.add_argument("--schedulers", nargs="+", choices=("local", "luigid"),
                        default=["local", "luigid"])
    parser.add_argument("--px", type=int, default=64)
    parser.add_argument("--names", action="store_true",
                        help="pass every image with -i (for checkouts without patterns)")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm reruns")
    parser.add_argument("--browser", action="store_true",
                        help="check luigid's visualizer after the largest luigid run")
    args = parser.parse_args()

    import pset_4

    print(f"pset_4 from {Path(pset_4.__file__).resolve().parents[1]}; {args.px} px, style {STYLE}",
          flush=True)
    rows, raw = [], {}
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
        sources = scratch / "sources"
        all_names = make_photos(sources, max(args.sizes), args.px)
        model = seed_model(scratch)
        # The ONNX form of the model (neural_style's cache, keyed on the file's sha256) is
        # made once here, not inside the first timed run.
        subprocess.run([sys.executable, "-c", "import sys, neural_style; "
                        f"neural_style.load_model(sys.argv[1], style={STYLE})", str(model)],
                       check=True)
        client = log = None
        if "s3" in args.stores:
            from moto.server import ThreadedMotoServer
            from pipeline_requests import RequestLog  # moto's log -> requests by kind

            from fixtures.s3 import s3_environment

            log = RequestLog()
            logging.getLogger("werkzeug").addHandler(log)
            logging.getLogger("werkzeug").setLevel(logging.INFO)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=True)
            server.start()
            stack.callback(server.stop)
            host, port = server.get_host_and_port()
            stack.enter_context(s3_environment(f"http://{host}:{port}"))
            import boto3

            client = boto3.client("s3")
        for count in sorted(args.sizes):
            names = all_names[:count]
            out = scratch / f"raw-{count}"
            out.mkdir()
            raw[count], raw_rss = timed([sys.executable, "-c", PEAK_REPORTED, "-c", RAW_LOOP,
                                         str(model), str(out),
                                         *[str(sources / name) for name in names]], scratch)
            rows.append(("raw loop", "-", count, raw[count], raw_rss, None, None, None, None))
            print(format_row(rows[-1], raw), flush=True)
            for store in args.stores:
                for scheduler in args.schedulers:
                    work = scratch / f"{store}-{scheduler}-{count}"
                    if store == "folder":
                        remote = folder_remote(scratch, f"{work.name}-remote", sources, names,
                                               model)
                    else:
                        remote = s3_remote(client, f"scale-{scheduler}-{count}", sources, names,
                                           model)
                    work.mkdir()
                    with ExitStack() as luigid:
                        options = []
                        if scheduler == "luigid":
                            from fixtures.luigid import running_luigid

                            server_ = luigid.enter_context(running_luigid(work / "luigid"))
                            options = ["--scheduler-url", server_.url]
                        command = pset_4_command(remote, work, names, args.names, *options)
                        if log:
                            log.seen.clear()
                        # moto serves from this process's threads; the main thread waits.
                        server_start = time.process_time()
                        cold, rss = timed(command, work)
                        server_cpu = time.process_time() - server_start if log else None
                        cold_requests = Counter(log.seen) if log and store == "s3" else None
                        warm = warm_requests = None
                        if not args.no_warm:
                            if log:
                                log.seen.clear()
                            warm, _ = timed(command, work)
                            warm_requests = Counter(log.seen) if log and store == "s3" else None
                        rows.append((store, scheduler, count, cold, rss, warm, cold_requests,
                                     warm_requests, server_cpu if store == "s3" else None))
                        print(format_row(rows[-1], raw), flush=True)
                        if args.browser and scheduler == "luigid" and count == max(args.sizes):
                            print(browser_check(server_.url, work / "chromium"), flush=True)
    print()
    print(HEADER)
    for row in rows:
        print(format_row(row, raw))
    smallest, largest = min(args.sizes), max(args.sizes)
    if smallest != largest:
        print()
        for store, scheduler, count, cold, *_ in rows:
            if count != largest:
                continue
            small = next(row[3] for row in rows
                         if row[:2] == (store, scheduler) and row[2] == smallest)
            ratio = (cold / largest) / (small / smallest)
            print(f"{store} / {scheduler}: per-image cost at {largest} vs {smallest}: "
                  f"{ratio:.2f}x (goal <= 1.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
