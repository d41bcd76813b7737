"""Forked children get one torch thread and fresh onnxruntime sessions.

A process that forks after torch has run a multi-threaded (OpenMP) op leaves
its child unable to use OpenMP again: the child's first multi-threaded op hangs
forever. luigi forks one process per worker (``--workers N``), often from a
parent that has already stylized something (a test session, a notebook), so
every child forked after ``import neural_style`` is switched to one torch
thread. torch is only touched when the parent had imported it.

onnxruntime's thread pool does not survive a fork either (a session made in the
parent runs ~5x slower in the child), so ``OnnxStyleModel`` makes a new session
in each process; that session takes ``neural_style.threads`` (the entry point
sets it to cores // workers), or one thread in a forked child when unset.
"""

from __future__ import annotations

import os
import sys

from . import threads


def after_fork_in_child() -> None:
    threads.forked()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def register() -> None:
    """Install the fork handler; ``import neural_style`` calls this once."""
    if hasattr(os, "register_at_fork"):  # POSIX only; Windows does not fork
        os.register_at_fork(after_in_child=after_fork_in_child)
