"""dev.py, the bootstrap behind both README commands: warm calls reuse the venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_dev(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_warm_call_runs_inside_the_venv_without_reinstalling():
    done = run_dev(
        "run",
        "python",
        "-c",
        "import sys, csci_utils; print(sys.prefix); print(csci_utils.__file__)",
    )
    assert done.returncode == 0, done.stderr
    prefix, package = done.stdout.split()
    assert Path(prefix).resolve() == Path(os.environ.get("CSCI_VENV", ROOT / ".venv")).resolve()
    assert Path(package).resolve().is_relative_to(ROOT)  # editable: this checkout
    assert "installing" not in done.stderr


def test_unknown_command_fails_with_one_line():
    done = run_dev("frobnicate")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unknown command" in done.stderr


def test_exit_code_of_the_command_is_passed_through():
    assert run_dev("run", "python", "-c", "raise SystemExit(7)").returncode == 7
