"""The multi-host harness itself: separate network namespaces share one luigid and one S3.

A server host runs luigid and moto on its own address; worker hosts have their own
folders and reach the server only over the veth/bridge network. Generic tasks whose
outputs are on S3 show that luigid hands each task to one host, and that a host
SIGKILLed mid-task loses its task to the other.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from fixtures.luigid import WORKER_CONFIG
from fixtures.s3 import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REGION

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUCKET = "hosts-bucket"
SHARED_OK = {0, 10, 25}  # the `luigi` command's codes for work shared with other workers
PUT_WORK = re.compile(rf'"PUT /{BUCKET}/work/(\d+)\.txt HTTP/1\.1" 200')


def host_env(host, luigid_url: str, s3_url: str) -> dict:
    config = host.home / "luigi.cfg"
    config.write_text(WORKER_CONFIG.format(url=luigid_url) + f"\n[s3]\nendpoint_url = {s3_url}\n")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "LUIGI_CONFIG_PATH": str(config),
        "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)]),
        "AWS_ENDPOINT_URL_S3": s3_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def batch_argv(count: int, seconds: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "luigi",
        "--module",
        "hosts_remote_tasks",
        "RemoteBatch",
        "--remote-root",
        f"s3://{BUCKET}",
        "--count",
        str(count),
        "--seconds",
        str(seconds),
        "--workers",
        "1",
    ]


def s3_keys(host, env) -> list[str]:
    code = (
        "import boto3\n"
        f"c = boto3.client('s3')\n"
        f"listed = c.list_objects_v2(Bucket={BUCKET!r}).get('Contents', [])\n"
        "print('\\n'.join(o['Key'] for o in listed))"
    )
    return host.python(code, env=env).split()


@pytest.mark.slow
def test_two_hosts_share_a_batch_on_luigid_and_s3_each_task_once(network):
    server, (first, second, third) = network.server, network.workers
    started = time.monotonic()
    luigid_url, s3_url = server.start_luigid(), server.start_s3()
    envs = {host.name: host_env(host, luigid_url, s3_url) for host in (first, second, third)}
    first.python(
        f"import boto3; boto3.client('s3').create_bucket(Bucket={BUCKET!r})", env=envs[first.name]
    )

    processes = [
        host.start(batch_argv(8, 0.3), "batch.log", env=envs[host.name]) for host in (first, second)
    ]
    codes = [process.wait(timeout=120) for process in processes]
    assert set(codes) <= SHARED_OK, first.log("batch.log") + second.log("batch.log")

    # Every task's object was PUT exactly once, by one host or the other (moto's request log).
    puts = Counter(PUT_WORK.findall(server.log("s3.log")))
    assert puts == Counter({str(n): 1 for n in range(8)}), puts
    assert sorted(s3_keys(third, envs[third.name])) == sorted(f"work/{n}.txt" for n in range(8))
    ran = {
        host.name: host.log("batch.log").count("running   RemoteWork(") for host in (first, second)
    }
    assert sum(ran.values()) == 8, ran  # each task ran once, on one host or the other
    tasks = server.api(luigid_url, "task_list", limit=False)
    assert {task["status"] for task in tasks.values()} == {"DONE"}

    # A third host runs the same batch and makes nothing: everything is on the remote.
    done = third.run(batch_argv(8, 0.3), env=envs[third.name], timeout=60)
    assert done.returncode in SHARED_OK, done.stdout + done.stderr
    assert Counter(PUT_WORK.findall(server.log("s3.log"))) == puts
    print(f"two hosts, 8 tasks: {time.monotonic() - started:.1f} s including server start-up")


@pytest.mark.slow
def test_a_host_killed_mid_task_loses_it_to_the_other_host(network):
    server, (first, second, _) = network.server, network.workers
    luigid_url, s3_url = server.start_luigid(), server.start_s3()
    envs = {host.name: host_env(host, luigid_url, s3_url) for host in (first, second)}
    first.python(
        f"import boto3; boto3.client('s3').create_bucket(Bucket={BUCKET!r})", env=envs[first.name]
    )

    victim = first.start(batch_argv(4, 3.0), "batch.log", env=envs[first.name])
    deadline = time.monotonic() + 60
    while "running   RemoteWork(" not in first.log("batch.log"):
        assert time.monotonic() < deadline, first.log("batch.log")
        time.sleep(0.1)
    survivor = second.start(batch_argv(4, 3.0), "batch.log", env=envs[second.name])
    os.killpg(victim.pid, 9)  # SIGKILL mid-task: no cleanup, no goodbye to luigid
    victim.wait(timeout=10)

    assert survivor.wait(timeout=120) in SHARED_OK, second.log("batch.log")
    assert sorted(s3_keys(second, envs[second.name])) == [f"work/{n}.txt" for n in range(4)]
    # The killed host's task was not finished by it: the survivor ran it (and the rest).
    killed_task = re.search(r"running   RemoteWork\((.*?)\)", first.log("batch.log")).group(1)
    assert f"running   RemoteWork({killed_task})" in second.log("batch.log")
    assert "done      RemoteWork(" not in first.log("batch.log")
