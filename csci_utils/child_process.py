"""A child process that never outlives its parent and is stopped gently (Linux; no luigi).

    code = run_child([sys.executable, "-m", "neural_style", "eval", ...])

* The child gets SIGTERM when its parent dies, even by SIGKILL
  (``prctl(PR_SET_PDEATHSIG)``, set between fork and exec), so a killed
  pipeline leaves no ``neural_style eval`` running.
* When the wait is interrupted (SIGTERM/SIGINT turned into an exception by
  ``csci_utils.cli.stop_cleanly_on_signals``, or any other exception), the child
  gets SIGTERM, not SIGKILL, and is waited for, so its own handler removes its
  temp file before the exception goes on. After STOP_GRACE_S it is killed.

PR_SET_PDEATHSIG fires when the *thread* that started the child ends; luigi runs
a task in its worker's main thread, which is what this is for.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_GRACE_S = 10.0  # how long a SIGTERMed child may take to clean up before SIGKILL


def _parent_death_signal(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel to send ``signum`` to the child when the parent
    dies; None where there is no prctl (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signum)

    return die_with_parent


def stop_child(process: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM ``process`` and wait for it; SIGKILL it if it outlasts ``grace_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_child(args: Sequence[str], **popen_options) -> int:
    """Run ``args`` to the end and return its exit status (see the module docstring).

    ``popen_options`` go to ``subprocess.Popen`` (env, stdout, stderr...).
    """
    process = subprocess.Popen(list(args), preexec_fn=_parent_death_signal(), **popen_options)
    try:
        return process.wait()
    except BaseException:
        stop_child(process)
        raise
