"""Names of 235-255 bytes: the temp name stays within the filesystem's 255-byte limit."""

from __future__ import annotations

import os

import luigi
from luigi.format import Nop

from csci_utils.atomic import NAME_MAX, TMP_MARKER, atomic_path, suffix_preserving_tmp_path
from csci_utils.luigi.target import SuffixPreservingLocalTarget

LONG = "p" * 246 + ".jpg"  # 250 bytes: legal, but not with a marker added
LONG_UTF8 = "é" * 122 + ".tar.gz"  # 251 bytes, 2-byte characters


def test_a_250_byte_name_is_written_atomically(tmp_path):
    final = tmp_path / LONG
    with atomic_path(final) as temporary:
        name = os.path.basename(temporary)
        assert len(name.encode()) <= NAME_MAX and TMP_MARKER in name
        assert name.endswith(".jpg")
        with open(temporary, "wb") as out:
            out.write(b"x")
    assert os.listdir(tmp_path) == [LONG] and final.read_bytes() == b"x"


def test_the_stem_is_cut_on_a_character_boundary_and_the_suffix_kept():
    name = os.path.basename(suffix_preserving_tmp_path(f"/x/{LONG_UTF8}"))
    assert len(name.encode()) <= NAME_MAX
    assert name.endswith(".tar.gz") and name.startswith("é" * 10)


class WriteLong(luigi.Task):
    folder = luigi.Parameter()

    def output(self):
        return SuffixPreservingLocalTarget(os.path.join(self.folder, LONG), format=Nop)

    def run(self):
        with self.output().open("w") as out:
            out.write(b"written")


def test_a_luigi_task_writes_a_250_byte_name(tmp_path):
    result = luigi.build([WriteLong(folder=str(tmp_path))], local_scheduler=True,
                         detailed_summary=True, log_level="WARNING")
    assert result.scheduling_succeeded, result.summary_text
    assert os.listdir(tmp_path) == [LONG] and (tmp_path / LONG).read_bytes() == b"written"
