"""The lint step of the test command: ruff, configured in pyproject.toml, on the whole tree."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_tree_is_ruff_clean():
    completed = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                               cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
