#!/usr/bin/env python
"""The whole dependency audit, cold, against `pipenv graph --json` alone, side by side.

    python3 dev.py run python benchmarks/audit_bench.py [--rounds 5] [--workers 1]

Each round runs, in this order and each as a fresh process:

* reference: ``pipenv graph --json`` in this repo (pipenv's dependency tree only);
* cold: ``python -m csci_utils.audit`` (AuditAll) into an empty audit folder:
  ScanMain, ScanPipenv, LocatePaths, BuildTree, RenderTravis and Diagnose all
  run; its probes start before luigi is imported;
* cold, through luigi's own command line: ``luigi --module
  csci_utils.tasks.audit AuditAll --local-scheduler`` into another empty folder
  (the same tasks; the probes start once luigi has loaded the module);
* warm: the luigi command again: every output is there, nothing runs;
* ``pipenv --venv`` alone: what the cold chain would add for a project that does
  not declare ``venv_in_project`` (this repo does, so pipenv is not started).

Rounds interleave the commands, so load on the machine hits them alike;
medians are printed with the ratio to the reference. Goal: cold <= 0.5x.

Our packages are byte-compiled first, as pip does for any installed package
(pipenv's own code, the reference, is): an editable install run with
PYTHONDONTWRITEBYTECODE=1, as on this VM, would otherwise recompile them from
source on every start.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL = 0.5


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if completed.returncode != 0:
        sys.exit(f"audit_bench: {' '.join(command[:3])}... failed "
                 f"(exit {completed.returncode}): {completed.stderr.strip()[-500:]}")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="luigi --workers for the chain")
    args = parser.parse_args()

    env = {**os.environ, "PIPENV_IGNORE_VIRTUALENVS": "1", "PIPENV_VERBOSITY": "-1"}
    pipenv = str(BIN / "pipenv")
    times: dict[str, list[tuple[float, float]]] = {
        "pipenv graph --json": [], "audit chain, cold": [], "cold, via the luigi CLI": [],
        "audit chain, warm (no work)": [], "pipenv --venv alone": [],
        "floor: python -c 'import luigi'": []}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "csci_utils")],
                   check=True)
    scratch = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    try:
        for number in range(args.rounds):
            audit_dir = scratch / f"round-{number}"
            ours = [sys.executable, "-m", "csci_utils.audit", "AuditAll", "--project-dir",
                    str(REPO), "--audit-dir", str(scratch / f"ours-{number}"),
                    "--workers", str(args.workers)]
            chain = [str(BIN / "luigi"), "--module", "csci_utils.tasks.audit", "AuditAll",
                     "--local-scheduler", "--project-dir", str(REPO), "--audit-dir",
                     str(audit_dir), "--workers", str(args.workers), "--log-level", "WARNING"]
            times["pipenv graph --json"].append(timed([pipenv, "graph", "--json"], env))
            times["audit chain, cold"].append(timed(ours, env))
            times["cold, via the luigi CLI"].append(timed(chain, env))
            outputs = sorted(p.name for p in audit_dir.iterdir())
            kinds = sorted(p.name.split("-")[0] for p in (scratch / f"ours-{number}").iterdir())
            assert kinds == sorted(name.split("-")[0] for name in outputs), \
                "the two command lines ran different tasks"
            times["audit chain, warm (no work)"].append(timed(chain, env))
            assert sorted(p.name for p in audit_dir.iterdir()) == outputs, "warm run did work"
            times["pipenv --venv alone"].append(timed([pipenv, "--venv"], env))
            times["floor: python -c 'import luigi'"].append(
                timed([sys.executable, "-c", "import luigi"], env))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(name: str, which: int = 0) -> float:
        return statistics.median(sample[which] for sample in times[name])

    reference, reference_cpu = median("pipenv graph --json"), median("pipenv graph --json", 1)
    load = os.getloadavg()[0]
    print(f"audit benchmark: {args.rounds} rounds, luigi --workers {args.workers}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}, repo {REPO}")
    print(f"{'command':34} {'wall s':>7} {'min s':>6} {'ratio':>6}   {'CPU s':>6} {'ratio':>6}")
    for name in times:
        wall, cpu = median(name), median(name, 1)
        fastest = min(sample[0] for sample in times[name])
        print(f"{name:34} {wall:7.2f} {fastest:6.2f} {wall / reference:5.2f}x   "
              f"{cpu:6.2f} {cpu / reference_cpu:5.2f}x")
    cold, via_luigi = median("audit chain, cold"), median("cold, via the luigi CLI")
    asked = cold + median("pipenv --venv alone")
    print(f"cold chain / pipenv graph = {cold / reference:.2f}x wall "
          f"(goal <= {GOAL}x: {'met' if cold / reference <= GOAL else 'NOT met'}); "
          f"via the luigi CLI {via_luigi / reference:.2f}x; "
          f"if pipenv had to be asked for the venv: {asked / reference:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
