"""A write the file system refuses is a WriteError naming the final path and the cause
(not the temporary name, not luigi's "No such file or directory"): atomic_path, and a
luigi task writing through SuffixPreservingLocalTarget.open('w') under luigi.build."""

from __future__ import annotations

import pickle

import luigi
import pytest
from luigi.format import Nop

from csci_utils.atomic import atomic_path
from csci_utils.luigi.run_report import failure_line
from csci_utils.luigi.target import SuffixPreservingLocalTarget
from csci_utils.write_errors import WriteError


def test_a_full_disk_names_the_final_path_and_leaves_nothing(full_disk):
    final = full_disk / "out" / "photo.png"
    with pytest.raises(WriteError) as raised:
        with atomic_path(final) as temporary, open(temporary, "wb") as out:
            out.write(b"x" * 100_000)
    assert str(raised.value) == (f"cannot write {final}: no space left on the device; "
                                 "free some space or write elsewhere")
    assert raised.value.errno == 28 and list((full_disk / "out").iterdir()) == []
    assert str(pickle.loads(pickle.dumps(raised.value))) == str(raised.value)  # crosses workers


class WriteSome(luigi.Task):
    path = luigi.Parameter()

    def output(self):
        return SuffixPreservingLocalTarget(self.path, format=Nop)

    def run(self):
        with self.output().open("w") as out:
            out.write(b"x" * 100_000)


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_a_luigi_task_reports_the_refused_write(request, disk):
    where = request.getfixturevalue("full_disk" if disk == "full" else "read_only_disk")
    task = WriteSome(path=str(where / "sub" / "blob.bin"))
    result = luigi.build([task], local_scheduler=True, detailed_summary=True)
    line = failure_line(result)
    expected = {"full": "no space left on the device", "read-only": "the file system is read-only"}
    assert expected[disk] in line and str(where / "sub") in line, line
    assert not [path for path in where.rglob("*") if path.is_file()]
