"""The audit's one way to work in other processes meanwhile: start them, collect, stop.

Used for the inventory probes (MAIN and the venv at once) and pipdeptree's summary. Each
starts from a neutral working directory, so the audited project is never the first entry
of a child's sys.path.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

from csci_utils.one_line import last_line


class NoAnswer(Exception):
    """The process timed out or exited non-zero; the message says which."""


@contextlib.contextmanager
def started(*commands: list[str]) -> Iterator[list[subprocess.Popen]]:
    """Each command started at once (stdout and stderr captured as text, no stdin); those
    still running when the block ends (an error, a signal) are stopped."""
    processes: list[subprocess.Popen] = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, text=True, cwd=os.path.abspath(os.sep)))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


def answer(process: subprocess.Popen, timeout_s: float) -> str:
    """What ``process`` printed on stdout, once it exited 0; else NoAnswer."""
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise NoAnswer(f"no answer in {timeout_s} s") from None
    if process.returncode != 0:
        raise NoAnswer(f"exit {process.returncode}: {last_line(stderr, 'no output')}")
    return stdout
