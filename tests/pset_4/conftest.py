"""Fixtures for the pipeline tests: small images, a seeded embedded store, CLI runner.

The store is seeded once per session through luigi.build(SeedStore) (that runs
the real neural_style conversion), and every test gets its own local cache and
output folder, so each one downloads from the remote as a fresh machine would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import luigi
import pytest
from sample_photos import SMALL_IMAGE, small_photo

from pset_4 import cli
from pset_4.seed import BUNDLED_MODEL
from pset_4.tasks.data import SeedStore


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory) -> Path:
    """An embedded remote holding grace_hopper.jpg, multistyle26.pth and a small image.

    Read-only for tests: a test that needs to add files copies it first.
    """
    base = tmp_path_factory.mktemp("seeded")
    remote, local = base / "remote", base / "seed-local"
    assert luigi.build(
        [SeedStore(remote_root=str(remote), local_root=str(local))], local_scheduler=True
    ), "seeding the embedded store failed"
    small_photo().save(remote / "images" / SMALL_IMAGE)
    assert (remote / "saved_models" / BUNDLED_MODEL).is_file()
    return remote


@pytest.fixture
def store(seeded_store, tmp_path) -> Path:
    """A private copy of the seeded store that a test may add to."""
    remote = tmp_path / "remote"
    shutil.copytree(seeded_store, remote)
    return remote


@pytest.fixture
def run_cli(tmp_path, capsys):
    """Run ``python -m pset_4`` in-process with private local/output folders.

    Returns (exit code, printed output paths, stderr text).
    """

    def run(*argv: str, remote: Path | str, output_dir: Path | None = None):
        output_dir = output_dir or tmp_path / "stylized"
        code = cli.main([
            "--remote", str(remote), "--local-root", str(tmp_path / "data"),
            "--output-dir", str(output_dir), *argv,
        ])
        captured = capsys.readouterr()
        return code, captured.out.split(), captured.err

    return run
