"""Start worker processes against a luigid fixture, each in its own session.

A separate session (process group) lets a test SIGKILL a worker together with
any child it forked, as a crashed machine would vanish.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    stderr_path: Path | None = None  # None: stderr went to the log with stdout

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"worker {self.pid} still running after {timeout}s; log:\n{self.log()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no goodbye to the scheduler."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""


def start_worker(
    server, workdir: Path, name: str, argv: list[str], config: Path | None = None,
    separate_stderr: bool = False,
) -> WorkerProcess:
    """Run ``python ARGV`` in ``workdir`` with a worker luigi.cfg (default: the server's).

    The log gets stdout and stderr, or stdout only with ``separate_stderr``
    (stderr then goes to ``<name>.err``, read with ``stderr()``).

    ``tests/luigid`` is on PYTHONPATH so ``--module luigid_sleepy_tasks`` imports.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config = config or server.worker_config(workdir)
    pythonpath = os.pathsep.join(
        filter(None, [str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    full_env = {**os.environ, "LUIGI_CONFIG_PATH": str(config), "PYTHONPATH": pythonpath}
    log_path = workdir / f"{name}.log"
    stderr_path = workdir / f"{name}.err" if separate_stderr else None
    with open(log_path, "wb") as log, open(stderr_path or os.devnull, "wb") as errors:
        process = subprocess.Popen(
            [sys.executable, *argv], cwd=workdir, env=full_env, stdout=log,
            stderr=errors if separate_stderr else subprocess.STDOUT, start_new_session=True,
        )
    return WorkerProcess(process=process, log_path=log_path, stderr_path=stderr_path)


def sleepy_batch_argv(server, out_dir: Path, count: int, seconds: float, **extra: str) -> list[str]:
    argv = ["-m", "luigi", "--module", "luigid_sleepy_tasks", "SleepyBatch",
            "--out-dir", str(out_dir), "--count", str(count), "--seconds", str(seconds),
            "--scheduler-url", server.url, "--workers", "1",
            # Two workers on one machine share a command line; luigi's per-machine
            # lock would refuse the second (on separate machines it never applies).
            "--no-lock"]
    for option, value in extra.items():
        argv += [f"--{option.replace('_', '-')}", value]
    return argv
