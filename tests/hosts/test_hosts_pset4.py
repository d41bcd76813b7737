"""`python -m pset_4` on really separate hosts (network namespaces): one batch, one luigid, one S3.

The server host runs luigid and moto on its own address; each worker host has its
own working folder (cache and output dir, the same relative names so task ids
match) and no shared disk with the others. Stylize runs are counted from the S3
server's request log: each result is PUT once, by the host that made it.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter

import pytest
from test_hosts_harness import host_env

BUCKET = "pset4-hosts"
REMOTE = f"s3://{BUCKET}/p"
IMAGES = [f"photo-{n}.png" for n in range(12)]
SUMMARY_LINE = re.compile(r"^pset_4: (\d+) stylized, (\d+) already done, 0 failed"
                          r"(?:, (\d+) by other workers)? in [\d.]+ s$", re.MULTILINE)
PUT_RESULT = re.compile(rf'"PUT /{BUCKET}/p/stylized/([^ ?]+) HTTP/1\.1" 200')

ARRANGE = f"""
import io, luigi, boto3
from PIL import Image
from pset_4.tasks.data import SeedStore
boto3.client('s3').create_bucket(Bucket={BUCKET!r})
assert luigi.build([SeedStore(remote_root={REMOTE!r}, local_root='seed')], local_scheduler=True)
client = boto3.client('s3')
photo = client.get_object(Bucket={BUCKET!r}, Key='p/images/grace_hopper.jpg')['Body']
base = Image.open(photo).convert('RGB')
base.thumbnail((64, 128))
for n in range({len(IMAGES)}):
    body = io.BytesIO()
    base.rotate(n * 7).save(body, format='PNG')
    client.put_object(Bucket={BUCKET!r}, Key=f'p/images/photo-{{n}}.png', Body=body.getvalue())
"""


def pset4_argv(option: str = "B", images=IMAGES) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "pset_4",
        "--remote",
        REMOTE,
        "--local-root",
        "data",
        "--output-dir",
        "stylized",
        "--no-seed",
        "--option",
        option,
        "--verbose",
    ]
    for image in images:
        argv += ["-i", image]
    return argv


def results_on_remote(host, env) -> list[str]:
    code = (
        "import boto3\n"
        f"r = boto3.client('s3').list_objects_v2(Bucket={BUCKET!r}, Prefix='p/stylized/')\n"
        "print('\\n'.join(o['Key'] for o in r.get('Contents', [])))"
    )
    return host.python(code, env=env).split()


def start(built, workers):
    server = built.server
    luigid_url, s3_url = server.start_luigid(), server.start_s3()
    envs = {
        host.name: {**host_env(host, luigid_url, s3_url), "OMP_NUM_THREADS": "1"}
        for host in workers
    }
    workers[0].python(ARRANGE, env=envs[workers[0].name], timeout=120)
    return luigid_url, envs


@pytest.mark.slow
def test_two_hosts_share_a_batch_of_12_each_stylize_once_and_a_third_makes_nothing(network):
    first, second, third = network.workers
    luigid_url, envs = start(network, [first, second, third])
    started = time.monotonic()
    processes = [
        host.start(pset4_argv(), "pset_4.log", env=envs[host.name]) for host in (first, second)
    ]
    codes = [process.wait(timeout=180) for process in processes]
    shared = time.monotonic() - started
    logs = first.log("pset_4.log") + second.log("pset_4.log")
    assert codes == [0, 0], logs

    puts = Counter(PUT_RESULT.findall(network.server.log("s3.log")))
    assert len(puts) == len(IMAGES) and set(puts.values()) == {1}, puts  # every Stylize ran once
    assert len(results_on_remote(third, envs[third.name])) == len(IMAGES)
    for host in (first, second):  # each printed all 12 results; local copies for its own share
        lines = [
            line
            for line in host.log("pset_4.log").splitlines()
            if line.startswith(f"{REMOTE}/stylized/")
        ]
        assert len(lines) == len(IMAGES), host.log("pset_4.log")
    made = {
        host.name: len([p for p in (host.home / "stylized").rglob("*.png") if p.is_file()])
        for host in (first, second)
    }
    assert sum(made.values()) == len(IMAGES), made
    for host in (first, second):  # each host's summary is its own view of the batch
        [summary] = [[int(n or 0) for n in view]
                     for view in SUMMARY_LINE.findall(host.log("pset_4.log"))]
        assert summary[0] == made[host.name] and sum(summary) == len(IMAGES), summary

    started = time.monotonic()
    done = third.run(pset4_argv(), env=envs[third.name], timeout=120)
    assert done.returncode == 0, done.stderr
    assert Counter(PUT_RESULT.findall(network.server.log("s3.log"))) == puts  # made nothing
    assert not (third.home / "stylized").exists() and not (third.home / "data").exists()
    assert done.stderr.splitlines()[-1].startswith(
        f"pset_4: 0 stylized, {len(IMAGES)} already done, 0 failed in "), done.stderr
    print(
        f"\n12 images on two hosts: {shared:.1f} s; "
        f"third host: {time.monotonic() - started:.1f} s; "
        f"made per host: {made}"
    )


@pytest.mark.slow
def test_a_host_killed_mid_stylize_loses_it_to_the_other_which_finishes_the_batch(network):
    first, second, _ = network.workers
    images = IMAGES[:4]
    luigid_url, envs = start(network, [first, second])
    # Option A: a `python -m neural_style eval` child per image takes seconds,
    # so the kill lands mid-task.
    victim = first.start(pset4_argv("A", images), "pset_4.log", env=envs[first.name])
    deadline = time.monotonic() + 90
    while "stylizing" not in first.log("pset_4.log"):
        assert time.monotonic() < deadline and victim.poll() is None, first.log("pset_4.log")
        time.sleep(0.1)
    survivor = second.start(pset4_argv("A", images), "pset_4.log", env=envs[second.name])
    os.killpg(victim.pid, 9)
    victim.wait(timeout=10)

    assert survivor.wait(timeout=180) == 0, second.log("pset_4.log")
    keys = results_on_remote(second, envs[second.name])
    assert len(keys) == len(images), keys  # no partial object: exactly the finished results
    assert all(key.endswith(".png") and "-luigi-tmp-" not in key for key in keys)
    puts = Counter(PUT_RESULT.findall(network.server.log("s3.log")))
    assert set(puts.values()) == {1} and len(puts) == len(images), puts
