#!/usr/bin/env python3
"""S3 requests that ``python -m pset_4`` makes per image, cold (empty cache) and warm (rerun).

    python3 dev.py run python benchmarks/pipeline_requests.py [--images 4 8]
    PYTHONPATH=/path/to/other/checkout python3 dev.py run python benchmarks/pipeline_requests.py

Counts every request moto's S3 server (in this process, on 127.0.0.1) receives,
from its request log, by method. Each batch size runs cold then warm with a
fresh bucket; the marginal cost of one image is the difference between two batch
sizes divided by the difference in images, so the model's and the bucket's
fixed requests drop out. Point PYTHONPATH at another checkout to count its
requests with the same script ("before" / "after").
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The repo first (tests/neural_style is a folder that must not shadow the package),
# then the test helpers.
# PYTHONPATH (another checkout) stays ahead of this repo.
sys.path.insert(
    1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(REPO)
)
sys.path += [str(REPO / "tests"), str(REPO / "tests" / "pset_4")]

REQUEST = re.compile(r'"(GET|HEAD|PUT|POST|DELETE) (/[^ ]*) HTTP')


class RequestLog(logging.Handler):
    """moto's werkzeug log -> requests by kind: LIST (a ListObjectsV2), GET, HEAD, PUT, ..."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        match = REQUEST.search(record.getMessage())
        if match and not match.group(2).startswith("/moto-api"):
            method, path = match.groups()
            self.seen["LIST" if method == "GET" and "list-type=2" in path else method] += 1


def run_batch(cli, bucket: str, local: Path, count: int) -> int:
    images = [arg for n in range(count) for arg in ("-i", f"photo-{n}.png")]
    return cli.main(
        [
            "--remote",
            f"s3://{bucket}/p",
            "--local-root",
            str(local / "data"),
            "--output-dir",
            str(local / "stylized"),
            "--no-seed",
            "--content-scale",
            "2",
            *images,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, nargs=2, default=[4, 8])
    args = parser.parse_args()

    import luigi
    from moto.server import ThreadedMotoServer
    from sample_photos import small_photo

    from fixtures.s3 import s3_environment
    from pset_4 import cli
    from pset_4.tasks.data import SeedStore

    log = RequestLog()
    logging.getLogger("werkzeug").addHandler(log)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=True)
    server.start()
    host, port = server.get_host_and_port()
    print(f"pset_4 from {Path(cli.__file__).resolve().parents[1]}")
    results = {}
    with s3_environment(f"http://{host}:{port}"), tempfile.TemporaryDirectory() as scratch:
        import boto3

        client = boto3.client("s3")
        for count in args.images:
            bucket = f"requests-{count}"
            client.create_bucket(Bucket=bucket)
            work = Path(scratch) / bucket
            assert luigi.build(
                [SeedStore(remote_root=f"s3://{bucket}/p", local_root=str(work / "seed"))],
                local_scheduler=True,
                log_level="WARNING",
            )
            for n in range(count):
                body = io.BytesIO()
                small_photo(96, mirror=bool(n % 2)).rotate(n).save(body, format="PNG")
                client.put_object(
                    Bucket=bucket, Key=f"p/images/photo-{n}.png", Body=body.getvalue()
                )
            for phase in ("cold", "warm"):
                log.seen.clear()
                code = run_batch(cli, bucket, work, count)
                assert code == 0, f"pset_4 exited {code}"
                results[count, phase] = Counter(log.seen)
    server.stop()

    small, large = args.images
    kinds = ("LIST", "GET", "HEAD", "PUT", "POST")
    print(f"{'run':<14}{'images':>7}" + "".join(f"{kind:>6}" for kind in kinds) + f"{'total':>7}")
    for (count, phase), seen in results.items():
        print(
            f"{phase:<14}{count:>7}"
            + "".join(f"{seen[kind]:>6}" for kind in kinds)
            + f"{sum(seen.values()):>7}"
        )
    for phase in ("cold", "warm"):
        per_image = (sum(results[large, phase].values()) - sum(results[small, phase].values())) / (
            large - small
        )
        print(f"{phase}: {per_image:.2f} requests per extra image")


if __name__ == "__main__":
    main()
