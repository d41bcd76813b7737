"""Temp files left by a killed writer are swept by the next write to their folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import luigi
from luigi.format import Nop

from csci_utils.atomic import TMP_MARKER, atomic_path
from csci_utils.luigi.target import SuffixPreservingLocalTarget

# A writer that dies (SIGKILL) in the middle of an atomic write.
WRITER = textwrap.dedent("""
    import sys, time
    from csci_utils.atomic import atomic_path
    with atomic_path(sys.argv[1]) as temporary:
        with open(temporary, "wb") as out:
            out.write(b"half")
        print(temporary, flush=True)
        time.sleep(60)
""")


def temps(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if TMP_MARKER in name)


def killed_writer_leaves(folder) -> str:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder / "photo.png")],
                              stdout=subprocess.PIPE, text=True)
    temporary = writer.stdout.readline().strip()
    writer.send_signal(signal.SIGKILL)
    writer.wait()  # reaped: its pid is no longer alive
    assert os.path.exists(temporary) and not (folder / "photo.png").exists()
    return os.path.basename(temporary)


def live_writer_temp(folder, pid: int) -> str:
    name = f"other{TMP_MARKER}{pid}-0123456789.png"
    (folder / name).write_bytes(b"in progress")
    return name


def test_a_killed_writers_temp_is_swept_and_a_live_ones_kept(tmp_path):
    stale = killed_writer_leaves(tmp_path)
    live = subprocess.Popen(["sleep", "60"])
    try:
        kept = live_writer_temp(tmp_path, live.pid)
        not_ours = f"photo{TMP_MARKER}notapid.png"
        (tmp_path / not_ours).write_bytes(b"someone else's")
        assert stale in temps(tmp_path)
        with atomic_path(tmp_path / "next.png") as temporary:
            with open(temporary, "wb") as out:
                out.write(b"new")
        assert temps(tmp_path) == sorted([kept, not_ours])
        assert (tmp_path / "next.png").read_bytes() == b"new"
    finally:
        live.kill()
        live.wait()


def test_the_sweep_stays_in_the_folder_being_written(tmp_path):
    (tmp_path / "sub").mkdir()
    stale = killed_writer_leaves(tmp_path / "sub")
    with atomic_path(tmp_path / "next.png") as temporary:
        open(temporary, "wb").close()
    assert temps(tmp_path / "sub") == [stale]


class WriteOne(luigi.Task):
    folder = luigi.Parameter()

    def output(self):
        return SuffixPreservingLocalTarget(os.path.join(self.folder, "out.png"), format=Nop)

    def run(self):
        with self.output().open("w") as out:
            out.write(b"written")


def test_a_luigi_build_sweeps_a_killed_writers_temp(tmp_path):
    stale = killed_writer_leaves(tmp_path)
    result = luigi.build([WriteOne(folder=str(tmp_path))], local_scheduler=True,
                         detailed_summary=True, log_level="WARNING")
    assert result.scheduling_succeeded, result.summary_text
    assert stale not in os.listdir(tmp_path) and temps(tmp_path) == []


def test_a_folder_the_write_makes_is_not_swept_and_one_that_was_there_is(tmp_path,
                                                                          monkeypatch):
    # A batch writes each result into a new folder: one scan each of a folder made a
    # moment ago found nothing, and cost a directory read per file.
    import csci_utils.atomic as atomic

    swept = []
    monkeypatch.setattr(atomic, "sweep_stale_temps", swept.append)
    with atomic_path(tmp_path / "new" / "photo.png") as temporary:
        open(temporary, "wb").close()
    assert swept == [] and (tmp_path / "new" / "photo.png").exists()
    (tmp_path / "there").mkdir()
    with atomic_path(tmp_path / "there" / "photo.png") as temporary:
        open(temporary, "wb").close()
    assert swept == [str(tmp_path / "there")]
