"""SIGTERM or Ctrl-C on ``python -m csci_utils.audit``: one line, exit 143 or 130, the
probe it was waiting for stopped, no temp file left (issue 17, class 10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from csci_utils.atomic import TMP_MARKER
from fixtures.processes import alive, assert_stopped_cleanly


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_the_audit_stops_cleanly_on_a_signal(signum, code, tmp_path):
    project, out, pid_file = tmp_path / "project", tmp_path / "audit", tmp_path / "probe.pid"
    project.mkdir()
    (project / "Pipfile").write_text("[packages]\n")
    slow_python = tmp_path / "slow-python"  # a MAIN interpreter that never answers its probe
    slow_python.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    slow_python.chmod(0o755)
    audit = subprocess.Popen(
        [sys.executable, "-m", "csci_utils.audit", "ScanMain", "--project-dir", str(project),
         "--main-python", str(slow_python), "--audit-dir", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert audit.poll() is None and time.monotonic() < deadline, audit.communicate()
        time.sleep(0.01)
    probe = int(pid_file.read_text())
    # The probe's shell may write its pid before Popen() has returned in the audit;
    # a signal inside Popen() itself would orphan it (csci_utils/audit/background.py).
    time.sleep(0.5)
    audit.send_signal(signum)
    assert_stopped_cleanly(audit, signum, "audit")
    assert audit.returncode == code
    deadline = time.monotonic() + 10
    while alive(probe):  # stopped with the audit, not left running
        assert time.monotonic() < deadline, f"probe {probe} outlived the audit"
        time.sleep(0.01)
    left = [name for _, _, names in os.walk(tmp_path) for name in names]
    assert not [name for name in left if TMP_MARKER in name], left
