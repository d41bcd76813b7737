"""What cannot be a result is not taken for one: a directory or a 0-byte file at an
output path (through the CLI and luigi.build)."""

from __future__ import annotations

from pathlib import Path

import luigi
import pytest
from PIL import Image
from sample_photos import SMALL_IMAGE

from pset_4.tasks.stylize import Stylize


@pytest.mark.parametrize("squatter", ["empty file", "directory"])
def test_an_invalid_file_at_the_output_path_is_not_done(store, tmp_path, run_cli, squatter):
    # The result is on the remote; this machine's copy (under --output-dir) is a cache
    # that is uploaded when present, so an invalid file there must never count as made.
    from csci_utils.luigi import remote_target, resolve

    output_dir = tmp_path / "stylized"
    identity = {f"{kind}_identity": resolve(remote_target(str(store), path)).identity
                for kind, path in (("image", f"images/{SMALL_IMAGE}"),
                                   ("model", "saved_models/multistyle26.pth"))}
    task = Stylize(image=SMALL_IMAGE, model="multistyle26.pth", style=0, **identity,
                   remote_root=str(store), local_root=str(tmp_path / "data"),
                   output_dir=str(output_dir))
    output = Path(task.cache_output().path)
    output.parent.mkdir(parents=True)
    if squatter == "empty file":
        output.write_bytes(b"")
    else:
        output.mkdir()
    assert not task.complete()
    code, printed, err = run_cli("-i", SMALL_IMAGE, "--no-seed", remote=store)
    if squatter == "empty file":  # rebuilt in place, then uploaded
        assert code == 0, err
        assert printed == [str(output)] and Image.open(output).size[0] > 0
        assert Image.open(task.output().path).size[0] > 0
    else:  # never printed as a result: one line naming the path
        assert code != 0 and printed == []
        line, summary = err.splitlines()  # the error, then the run's summary
        assert str(output) in line, line
        assert summary.startswith("pset_4: 0 stylized, 0 already done, 1 failed ("), summary
        assert not task.output().exists()
    result = luigi.build([task], local_scheduler=True, detailed_summary=True)
    assert result.scheduling_succeeded == (squatter == "empty file")
