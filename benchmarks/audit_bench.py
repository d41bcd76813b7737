#!/usr/bin/env python
"""The whole dependency audit, cold, against `pipenv graph --json` alone, side by side.

    python3 dev.py run python benchmarks/audit_bench.py [--rounds 5] [--workers 1]
    python3 dev.py run python benchmarks/audit_bench.py --default-case DIR [--rounds 5]
        [--compare OTHER_CHECKOUT]

``--default-case DIR`` builds (once) a real project in DIR, the common case:
no ``venv_in_project`` and no PIPENV_VENV_IN_PROJECT, its venv where pipenv puts
one (``WORKON_HOME/<name>-<hash>``, WORKON_HOME=DIR-workon), ~80 distributions
installed by pip by name, and ~350 .py files (the sources of some of them,
copied); then measures there. Without it, this repo (which declares
``venv_in_project``) is measured.

Each round runs, in this order and each as a fresh process:

* reference: ``pipenv graph --json`` in the project (pipenv's dependency tree only);
* cold: ``python -m csci_utils.audit`` (AuditAll) into an empty audit folder:
  ScanMain, ScanPipenv, LocatePaths, BuildTree, RenderTravis and Diagnose all
  run;
* cold, through luigi's own command line: ``luigi --module
  csci_utils.tasks.audit AuditAll --local-scheduler`` into another empty folder;
* warm: the luigi command again: every output is there, nothing runs;
* ``pipenv --venv`` alone: what the audit does NOT pay, as the venv is found by
  pipenv's own rule (``pipenv_venv.venv_by_pipenvs_rule``);
* with ``--compare OTHER_CHECKOUT``: the cold ``python -m csci_utils.audit`` of
  that checkout's code (PYTHONPATH=OTHER_CHECKOUT), in the same rounds, so that a
  change is measured against what it changed, side by side.

Rounds interleave the commands, so load on the machine hits them alike;
medians are printed with the ratio to the reference. Goals: cold <= 0.6x
through both command lines, warm <= 0.3x.

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
COLD_GOAL, WARM_GOAL = 0.6, 0.3
# Installed by name into the default-case venv: with their requirements, ~80 distributions.
PACKAGES = ("flask", "requests", "boto3", "pyyaml", "click", "rich", "sqlalchemy", "pytest",
            "jinja2", "httpx", "pydantic", "attrs", "python-dateutil", "pandas", "tqdm",
            "black", "mypy", "sphinx", "tabulate", "toml", "packaging", "cryptography")
# Their sources become the project's own code (~350 files).
COPIED_SOURCES = ("rich", "click", "flask", "jinja2", "requests", "attr", "tabulate", "dateutil",
                  "httpx", "yaml", "pydantic")


def make_default_case(project: Path, env: dict) -> None:
    """A Pipenv project in the common case, built once: see the module docstring."""
    sys.path.insert(0, str(REPO))
    from csci_utils.audit.pipenv_venv import venv_by_pipenvs_rule

    project.mkdir(parents=True, exist_ok=True)
    pipfile = project / "Pipfile"
    if not pipfile.exists():
        pipfile.write_text("[packages]\n" + "".join(f'{name} = "*"\n' for name in PACKAGES)
                           + '\n[scripts]\ntest = "python -m pytest"\n')
    os.environ.update({k: v for k, v in env.items() if k == "WORKON_HOME"})
    venv = venv_by_pipenvs_rule(project)
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *PACKAGES], check=True)
    code = project / "app"
    if not code.exists():
        site = next((venv / "lib").glob("python*/site-packages"))
        code.mkdir()
        (code / "__init__.py").write_text("")
        for name in COPIED_SOURCES:
            source = site / name
            if source.is_dir():
                shutil.copytree(source, code / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.is_file():
                shutil.copy(source, code / name)
    files = sum(1 for _ in project.rglob("*.py"))
    dists = len(list(next((venv / "lib").glob("python*/site-packages")).glob("*.dist-info")))
    print(f"default case: {project} ({files} .py files), venv {venv} ({dists} distributions)")


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
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
    parser.add_argument("--default-case", type=Path, metavar="DIR",
                        help="build (once) and measure the default-case project in DIR")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also time the cold run of another checkout's code")
    args = parser.parse_args()

    env = {**os.environ, "PIPENV_IGNORE_VIRTUALENVS": "1", "PIPENV_VERBOSITY": "-1"}
    project = REPO
    if args.default_case:
        project = args.default_case.resolve()
        env.pop("PIPENV_VENV_IN_PROJECT", None)
        env["WORKON_HOME"] = str(project.parent / f"{project.name}-workon")
        make_default_case(project, env)
    pipenv = str(BIN / "pipenv")
    times: dict[str, list[tuple[float, float]]] = {
        "pipenv graph --json": [], "audit chain, cold": [], "cold, via the luigi CLI": [],
        "audit chain, warm (no work)": [], "pipenv --venv alone": [],
        "floor: python -c 'import luigi'": []}
    compare_label = f"cold, from {args.compare}"
    if args.compare:
        times[compare_label] = []
    for checkout in (REPO, *([args.compare] if args.compare else [])):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "csci_utils")],
                       check=True)
    scratch = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    try:
        for number in range(args.rounds):
            audit_dir = scratch / f"round-{number}"
            ours = [sys.executable, "-m", "csci_utils.audit", "AuditAll", "--project-dir",
                    str(project), "--audit-dir", str(scratch / f"ours-{number}"),
                    "--workers", str(args.workers)]
            chain = [str(BIN / "luigi"), "--module", "csci_utils.tasks.audit", "AuditAll",
                     "--local-scheduler", "--project-dir", str(project), "--audit-dir",
                     str(audit_dir), "--workers", str(args.workers), "--log-level", "WARNING"]
            times["pipenv graph --json"].append(timed([pipenv, "graph", "--json"], env, project))
            times["audit chain, cold"].append(timed(ours, env, project))
            if args.compare:
                other = [*ours[:7], str(scratch / f"compare-{number}"), *ours[8:]]
                times[compare_label].append(timed(
                    other, {**env, "PYTHONPATH": str(args.compare.resolve())}, project))
            times["cold, via the luigi CLI"].append(timed(chain, env, project))
            outputs = sorted(p.name for p in audit_dir.iterdir())
            kinds = sorted(p.name.split("-")[0] for p in (scratch / f"ours-{number}").iterdir())
            assert kinds == sorted(name.split("-")[0] for name in outputs), \
                "the two command lines ran different tasks"
            times["audit chain, warm (no work)"].append(timed(chain, env, project))
            assert sorted(p.name for p in audit_dir.iterdir()) == outputs, "warm run did work"
            times["pipenv --venv alone"].append(timed([pipenv, "--venv"], env, project))
            times["floor: python -c 'import luigi'"].append(
                timed([sys.executable, "-c", "import luigi"], env, project))
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
    warm = median("audit chain, warm (no work)")

    def verdict(ratio: float, goal: float) -> str:
        return f"{ratio:.2f}x (goal <= {goal}x: {'met' if ratio <= goal else 'NOT met'})"

    print(f"project {project}: cold python -m csci_utils.audit "
          f"{verdict(cold / reference, COLD_GOAL)}; "
          f"cold luigi CLI {verdict(via_luigi / reference, COLD_GOAL)}"
          f"; warm {verdict(warm / reference, WARM_GOAL)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
