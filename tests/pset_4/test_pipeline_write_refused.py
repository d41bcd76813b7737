"""A write the disk refuses is one line naming the path and the real cause (issue 17, class 6):
a read-only output dir or local root, a full disk, seeding into a read-only store.
Through ``python -m pset_4`` and through luigi.build; nothing partial is left."""

from __future__ import annotations

import re

import luigi
import pytest
from sample_photos import SMALL_IMAGE

from csci_utils.luigi import remote_target, resolve
from fixtures.filesystems import mounted_tmpfs
from pset_4.outcome import failure_reason
from pset_4.tasks.data import SeedStore
from pset_4.tasks.stylize import TASK_FOR_OPTION

MODEL = "multistyle26.pth"


def _files(folder):
    return sorted(str(path) for path in folder.rglob("*") if path.is_file())


def error_line(err: str) -> str:
    """The one error line; a run that reached its batch adds its summary line after it."""
    line, *summary = err.splitlines()
    assert summary == [] or (len(summary) == 1 and " stylized, " in summary[0]), err
    return line


def _one_line(code, printed, err, *expected):
    assert code == 30 and printed == [], (code, printed, err)
    line = error_line(err)
    # A result's failure is named by its shard: "1 of 1 results failed: <result>: cannot ..."
    assert re.match(r"pset_4: error: (\d+ of \d+ results failed: .*?: )?cannot ", line), line
    for text in expected:
        assert text in line, line
    assert "luigi-tmp" not in line and ".png or .jpg" not in line, line
    return line


@pytest.mark.parametrize("option", ["A", "B"])
def test_a_full_output_dir_names_the_result_and_the_cause(store, run_cli, full_disk, option):
    code, printed, err = run_cli("-i", SMALL_IMAGE, "--no-seed", "--option", option,
                                 remote=store, output_dir=full_disk / "stylized")
    # Option A: the child's line, with the temporary name it was given put back to the result's.
    _one_line(code, printed, err, "cannot write", str(full_disk / "stylized"),
              "no space left on the device")
    assert _files(full_disk) == []  # no partial result, no temp file
    assert not list((store / "stylized").rglob("*.png"))


def test_a_read_only_output_dir_is_named_with_its_cause(store, run_cli, read_only_disk):
    code, printed, err = run_cli("-i", SMALL_IMAGE, "--no-seed", remote=store,
                                 output_dir=read_only_disk / "stylized")
    _one_line(code, printed, err, f"cannot create the folder {read_only_disk / 'stylized'}",
              "the file system is read-only")


def test_a_read_only_local_root_is_named_with_its_cause(store, read_only_disk, tmp_path, capsys):
    from pset_4 import cli

    local = read_only_disk / "data"
    code = cli.main(["--remote", str(store), "--local-root", str(local), "--output-dir",
                     str(tmp_path / "out"), "-i", SMALL_IMAGE, "--no-seed"])
    captured = capsys.readouterr()
    _one_line(code, [], captured.err, f"cannot create the folder {local}", "read-only")


def test_seeding_a_read_only_store_names_the_store_not_a_missing_file(run_cli, read_only_disk):
    remote = read_only_disk / "remote"
    code, printed, err = run_cli("--seed", remote=remote)
    line = _one_line(code, printed, err, f"cannot create the folder {remote}", "read-only")
    assert "missing" not in line


def test_seeding_a_full_store_leaves_nothing_partial(run_cli, full_disk):
    code, printed, err = run_cli("--seed", remote=full_disk / "remote")
    _one_line(code, printed, err, str(full_disk / "remote"), "no space left on the device")
    assert _files(full_disk) == []


def test_luigi_build_reports_the_refused_writes(store, tmp_path):
    """The same lines through luigi.build: a full cache under Stylize, a read-only seed."""
    identities = {f"{kind}_identity": resolve(remote_target(str(store), path)).identity
                  for kind, path in (("image", f"images/{SMALL_IMAGE}"),
                                     ("model", f"saved_models/{MODEL}"))}
    with mounted_tmpfs(tmp_path / "full") as full, \
            mounted_tmpfs(tmp_path / "ro", read_only=True) as read_only:
        task = TASK_FOR_OPTION["B"](image=SMALL_IMAGE, model=MODEL, style=0, **identities,
                                    remote_root=str(store), local_root=str(full / "data"),
                                    output_dir=str(full / "out"))
        result = luigi.build([task], local_scheduler=True, detailed_summary=True)
        line = failure_reason(result)
        assert line.startswith(f"cannot write {full / 'data'}"), line
        assert "no space left on the device" in line, line
        assert not task.output().exists() and _files(full) == []

        seed = SeedStore(remote_root=str(read_only / "remote"), local_root=str(tmp_path / "l"))
        result = luigi.build([seed], local_scheduler=True, detailed_summary=True)
        line = failure_reason(result)
        assert line.startswith(f"cannot create the folder {read_only / 'remote'}"), line
