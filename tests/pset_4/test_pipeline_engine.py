"""The pipeline runs on onnxruntime by default: with its inputs cached, no torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sample_photos import SMALL_IMAGE

PIPELINE_WITHOUT_TORCH = r"""
import json, sys
from pset_4 import cli
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "onnx": "onnx" in sys.modules}))
"""


@pytest.mark.parametrize("option", ["A", "B"])
def test_a_cached_pipeline_run_never_imports_torch(option, store, tmp_path, run_cli):
    code, [first], err = run_cli("-i", SMALL_IMAGE, "--style", "5", remote=store)
    assert code == 0, err  # downloads the inputs and fills the ONNX cache
    arguments = ["--remote", str(store), "--local-root", str(tmp_path / "data"),
                 "--output-dir", str(tmp_path / "again"), "-i", SMALL_IMAGE, "--style", "5",
                 "--option", option]
    done = subprocess.run([sys.executable, "-c", PIPELINE_WITHOUT_TORCH, *arguments],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "torch": False, "onnx": False}
    [second] = lines[:-1]
    assert open(second, "rb").read() == open(first, "rb").read()


def test_workers_split_the_cores(store, tmp_path, run_cli):
    from neural_style import threads

    try:
        code, paths, err = run_cli("-i", SMALL_IMAGE, "--style", "1", "--workers", "2",
                                   remote=store)
        assert code == 0, err
        assert threads.configured() == threads.per_worker(2)
    finally:
        threads.set_threads(None)
