"""Name rules: a dot-dot inside a file name is harmless; "." and ".." are usage errors (2)."""

from __future__ import annotations

import pytest

from pset_4 import cli
from pset_4.errors import PipelineError
from pset_4.names import validate_name


def test_double_dots_inside_a_name_are_allowed():
    assert validate_name("photo..v2.jpg", "image") == "photo..v2.jpg"


@pytest.mark.parametrize("name", [".", ".."])
def test_a_folder_name_is_refused(name):
    with pytest.raises(PipelineError, match="names a folder"):
        validate_name(name, "image")


@pytest.mark.parametrize("name", [".", "..", "a/b.jpg"])
def test_the_cli_exits_2_with_one_line(name, tmp_path, capsys):
    code = cli.main(["-i", name, "--remote", str(tmp_path / "r"), "--local-root",
                     str(tmp_path / "d"), "--output-dir", str(tmp_path / "o")])
    assert code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("python -m pset_4: error:") or line.startswith("pset_4: error:"), line
