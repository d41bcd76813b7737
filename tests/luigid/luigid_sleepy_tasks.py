"""Small generic tasks for the luigid tests: they sleep, report progress and write atomically.

Every attempt leaves a record in ``<out_dir>/attempts/`` (task number, worker pid,
start time), so a test can count how often each task ran and in which process,
whatever the scheduler says.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import luigi

from csci_utils.luigi.target import SuffixPreservingLocalTarget

STEPS = 4


def record_attempt(out_dir: str, number: int) -> None:
    attempts = Path(out_dir) / "attempts"
    attempts.mkdir(parents=True, exist_ok=True)
    (attempts / f"{number}-{os.getpid()}-{time.time_ns()}").touch()


def attempts_by_task(out_dir: Path) -> dict[int, list[int]]:
    """``{task number: [pid of each attempt, oldest first]}``."""
    records = []
    for record in (Path(out_dir) / "attempts").iterdir():
        number, pid, started = (int(part) for part in record.name.split("-"))
        records.append((started, number, pid))
    by_task: dict[int, list[int]] = {}
    for _, number, pid in sorted(records):
        by_task.setdefault(number, []).append(pid)
    return by_task


class SleepyWork(luigi.Task):
    """Sleeps ``seconds`` in steps, reporting a percentage and a status message."""

    out_dir = luigi.Parameter()
    number = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=1.0)
    # When set, the task holds at 50% until this file exists (for a browser to look at it).
    release_file = luigi.Parameter(default="", significant=False)

    def output(self):
        return SuffixPreservingLocalTarget(os.path.join(self.out_dir, f"work-{self.number}.txt"))

    def run(self):
        record_attempt(self.out_dir, self.number)
        for step in range(1, STEPS + 1):
            time.sleep(self.seconds / STEPS)
            # Message first: a reader that sees the new percentage also sees its message.
            self.set_status_message(
                f"work {self.number}: step {step} of {STEPS} in pid {os.getpid()}"
            )
            self.set_progress_percentage(100 * step // STEPS)
            while (
                self.release_file and step == STEPS // 2 and not os.path.exists(self.release_file)
            ):
                time.sleep(0.1)
        with self.output().open("w") as out:
            out.write(f"work {self.number} finished by pid {os.getpid()}\n")


class SleepyBatch(luigi.WrapperTask):
    out_dir = luigi.Parameter()
    count = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=1.0)
    release_file = luigi.Parameter(default="", significant=False)

    def requires(self):
        return [
            SleepyWork(
                out_dir=self.out_dir,
                number=number,
                seconds=self.seconds,
                release_file=self.release_file,
            )
            for number in range(self.count)
        ]
