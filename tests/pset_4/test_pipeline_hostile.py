"""What cannot be a result is not taken for one: a directory or a 0-byte file at an
output path (through the CLI and luigi.build)."""

from __future__ import annotations

import luigi
import pytest
from PIL import Image
from sample_photos import SMALL_IMAGE

from pset_4.tasks.stylize import Stylize


@pytest.mark.parametrize("squatter", ["empty file", "directory"])
def test_an_invalid_file_at_the_output_path_is_not_done(store, tmp_path, run_cli, squatter):
    output_dir = tmp_path / "stylized"
    task = Stylize(image=SMALL_IMAGE, model="multistyle26.pth", style=0,
                   remote_root=str(store), local_root=str(tmp_path / "data"),
                   output_dir=str(output_dir))
    path = task.output().path
    output = output_dir / path[len(str(output_dir)) + 1:]
    output.parent.mkdir(parents=True)
    if squatter == "empty file":
        output.write_bytes(b"")
    else:
        output.mkdir()
    assert not task.complete()
    code, printed, err = run_cli("-i", SMALL_IMAGE, "--no-seed", remote=store)
    if squatter == "empty file":  # rebuilt in place
        assert code == 0, err
        assert printed == [path] and Image.open(output).size[0] > 0
    else:  # never printed as a result: one line naming the path
        assert code != 0 and printed == []
        [line] = err.splitlines()
        assert str(output) in line, line
    result = luigi.build([task], local_scheduler=True, detailed_summary=True)
    assert result.scheduling_succeeded == (squatter == "empty file")
