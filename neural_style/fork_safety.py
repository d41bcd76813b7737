"""Forked children get one torch thread.

A process that forks after torch has run a multi-threaded (OpenMP) op leaves
its child unable to use OpenMP again: the child's first multi-threaded op hangs
forever. luigi forks one process per worker (``--workers N``), often from a
parent that has already stylized something (a test session, a notebook), so
every child forked after ``import neural_style`` is switched to one thread.
One thread per process is also the faster setting when several workers share
the cores (see docs/neural_style.md, Benchmark).
"""

from __future__ import annotations

import os

import torch


def use_one_thread() -> None:
    torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):  # POSIX only; Windows does not fork
    os.register_at_fork(after_in_child=use_one_thread)
