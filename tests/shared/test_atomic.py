"""csci_utils.atomic: the luigi-free atomic write, and neural_style using it without luigi."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from csci_utils.atomic import TMP_MARKER, atomic_path


def test_atomic_path_keeps_the_suffix_and_moves_into_place(tmp_path):
    final = tmp_path / "deep" / "out.tar.gz"
    with atomic_path(final) as temporary:
        assert os.path.dirname(temporary) == str(final.parent)
        assert TMP_MARKER in temporary and temporary.endswith(".tar.gz")
        assert not final.exists()
        with open(temporary, "w") as handle:
            handle.write("new")
    assert final.read_text() == "new"
    assert os.listdir(final.parent) == ["out.tar.gz"]


def test_atomic_path_cleans_up_and_keeps_the_old_file_on_error(tmp_path):
    final = tmp_path / "photo.png"
    final.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(final) as temporary:
        with open(temporary, "w") as handle:
            handle.write("half")
        raise RuntimeError("killed mid-way")
    assert final.read_text() == "old"
    assert os.listdir(tmp_path) == ["photo.png"]


def test_atomic_path_refuses_to_replace_a_directory(tmp_path):
    final = tmp_path / "outdir"
    final.mkdir()
    with pytest.raises(FileExistsError), atomic_path(final) as temporary:
        os.mkdir(temporary)
    assert os.listdir(tmp_path) == ["outdir"]


NO_LUIGI_SCRIPT = """
import sys
from pathlib import Path
import neural_style
from matplotlib import cbook
[checkpoint] = neural_style.convert(neural_style.bundled_multistyle_onnx(), sys.argv[1])
image = neural_style.load_image(Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
image = image.resize((64, 64))
result = neural_style.stylize(image, neural_style.load_model(checkpoint, style=0))
neural_style.save_image(result, Path(sys.argv[1]) / "out.png")
from neural_style.cli import main
assert main(["eval", "--content-image", str(Path(sys.argv[1]) / "out.png"), "--model",
             str(checkpoint), "--style", "1", "--output-image",
             str(Path(sys.argv[1]) / "cli.png")]) == 0
print(sorted(name for name in sys.modules if name == "luigi" or name.startswith("luigi.")))
"""


def test_neural_style_converts_stylizes_and_saves_without_importing_luigi(tmp_path):
    completed = subprocess.run([sys.executable, "-c", NO_LUIGI_SCRIPT, str(tmp_path)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out.png").is_file() and (tmp_path / "cli.png").is_file()


IMPORT_STATE_SCRIPT = """
import logging, os, luigi.configuration
before = os.register_at_fork
hooks = []
os.register_at_fork = lambda **kw: hooks.append(kw)
import csci_utils.tasks.audit
config = luigi.configuration.get_config()
print(config.has_section("retcode"), logging.getLogger("luigi-interface").filters, hooks)
"""


def test_importing_the_audit_tasks_changes_no_global_state(tmp_path):
    # From a folder without luigi.cfg: nothing may set [retcode] but the import itself.
    completed = subprocess.run([sys.executable, "-c", IMPORT_STATE_SCRIPT], cwd=tmp_path,
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "LUIGI_CONFIG_PATH": str(tmp_path / "none.cfg")})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "False [] []"
