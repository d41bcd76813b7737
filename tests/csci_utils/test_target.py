"""The suffix-preserving atomic target, on real files with real image writers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import luigi
import pytest
from luigi.format import Nop
from luigi.local_target import atomic_file
from PIL import Image

from csci_utils.luigi.target import (
    TMP_MARKER,
    BaseAtomicProviderLocalTarget,
    SuffixPreservingLocalTarget,
    split_suffixes,
    suffix_preserving_tmp_path,
)

CASES = [
    # (relative final path, expected suffixes of the temp file)
    ("photo.jpg", ".jpg"),
    ("a.tar.gz", ".tar.gz"),
    ("v1.2/out.png", ".png"),
    (".env", ""),
    ("Makefile", ""),
    ("deep/er/.config.json", ".json"),
]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if TMP_MARKER in p.name)


@pytest.mark.parametrize("relative, suffixes", CASES)
def test_tmp_name_keeps_every_suffix_and_directory(tmp_path, relative, suffixes):
    final = tmp_path / relative
    tmp = Path(suffix_preserving_tmp_path(str(final)))
    assert tmp.parent == final.parent
    assert TMP_MARKER in tmp.name
    assert "".join(tmp.suffixes) == suffixes or (suffixes == "" and tmp.name.startswith(final.name))
    assert tmp.name.endswith(suffixes)
    assert tmp.name != final.name


def test_relative_paths_stay_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tmp = suffix_preserving_tmp_path("out/photo.jpg")
    assert tmp.startswith("out/photo-luigi-tmp-") and tmp.endswith(".jpg")
    target = SuffixPreservingLocalTarget("out/photo.jpg", format=Nop)
    with target.open("w") as f:
        f.write(b"x")
    assert (tmp_path / "out/photo.jpg").read_bytes() == b"x"


@pytest.mark.parametrize(
    "name, expected",
    [("a.tar.gz", ("a", ".tar.gz")), (".env", (".env", "")), ("x", ("x", "")),
     (".config.json", (".config", ".json")), ("trailing.", ("trailing.", ""))],
)
def test_split_suffixes(name, expected):
    assert split_suffixes(name) == expected


@pytest.mark.parametrize("relative, suffixes", CASES)
def test_open_w_writes_through_a_suffixed_sibling(tmp_path, relative, suffixes):
    final = tmp_path / relative
    target = SuffixPreservingLocalTarget(str(final))
    with target.open("w") as f:
        f.write("hello")
        (seen,) = [p for p in final.parent.iterdir() if TMP_MARKER in p.name]
        assert seen.name.endswith(suffixes)
        assert not final.exists()
    assert final.read_text() == "hello"
    assert leftovers(tmp_path) == []
    with target.open("r") as f:
        assert f.read() == "hello"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_pillow_saves_through_open_w_by_suffix(tmp_path, fmt):
    final = tmp_path / f"img.{fmt.lower()}"
    image = Image.new("RGB", (32, 24), (200, 30, 60))
    with SuffixPreservingLocalTarget(str(final), format=Nop).open("w") as f:
        image.save(f)  # no format given: Pillow reads it off the temp name
    with Image.open(final) as reloaded:
        assert reloaded.format == fmt and reloaded.size == (32, 24)
    assert leftovers(tmp_path) == []


def test_luigi_own_temp_name_breaks_pillow(tmp_path):
    """Why this module exists: luigi's temp name hides the suffix from Pillow."""
    final = tmp_path / "img.png"
    with pytest.raises(ValueError, match="unknown file extension"):
        with luigi.LocalTarget(str(final), format=Nop).open("w") as f:
            Image.new("RGB", (8, 8)).save(f)
    assert not final.exists()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_pillow_saves_through_temporary_path(tmp_path, fmt):
    final = tmp_path / "nested" / f"img.{fmt.lower()}"
    target = SuffixPreservingLocalTarget(str(final))
    with target.temporary_path() as tmp:
        assert Path(tmp).parent == final.parent and Path(tmp).parent.is_dir()
        Image.new("RGB", (16, 16), (1, 2, 3)).save(tmp)
    with Image.open(final) as reloaded:
        assert reloaded.format == fmt
    assert leftovers(tmp_path) == []


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("fmt", [None, Nop])
def test_exception_in_open_w_leaves_nothing(tmp_path, fmt):
    final = tmp_path / "out.txt"
    with pytest.raises(Boom):
        with SuffixPreservingLocalTarget(str(final), format=fmt).open("w") as f:
            f.write("partial" if fmt is None else b"partial")
            raise Boom()
    assert not final.exists()
    assert leftovers(tmp_path) == []


def test_exception_in_temporary_path_leaves_nothing(tmp_path):
    final = tmp_path / "out.png"
    with pytest.raises(Boom):
        with SuffixPreservingLocalTarget(str(final)).temporary_path() as tmp:
            Path(tmp).write_bytes(b"partial")
            raise Boom()
    assert not final.exists()
    assert leftovers(tmp_path) == []


def test_exception_in_temporary_directory_leaves_nothing(tmp_path):
    final = tmp_path / "outdir"
    with pytest.raises(Boom):
        with SuffixPreservingLocalTarget(str(final)).temporary_path() as tmp:
            os.makedirs(os.path.join(tmp, "sub"))
            Path(tmp, "sub", "f").write_text("x")
            raise Boom()
    assert not final.exists()
    assert leftovers(tmp_path) == []


def test_exception_keeps_old_content(tmp_path):
    final = tmp_path / "out.txt"
    final.write_text("old")
    target = SuffixPreservingLocalTarget(str(final))
    for writer in (target.open, target.temporary_path):
        with pytest.raises(Boom):
            if writer == target.open:
                with writer("w") as f:
                    f.write("new")
                    raise Boom()
            else:
                with writer() as tmp:
                    Path(tmp).write_text("new")
                    raise Boom()
        assert final.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_temporary_path_replaces_an_existing_file(tmp_path):
    final = tmp_path / "out.txt"
    final.write_text("old")
    with SuffixPreservingLocalTarget(str(final)).temporary_path() as tmp:
        Path(tmp).write_text("new")
        assert final.read_text() == "old"  # untouched until the rename
    assert final.read_text() == "new"


def test_temporary_path_refuses_to_replace_a_directory(tmp_path):
    final = tmp_path / "outdir"
    final.mkdir()
    (final / "keep").write_text("old")
    with pytest.raises(FileExistsError, match="outdir"):
        with SuffixPreservingLocalTarget(str(final)).temporary_path() as tmp:
            os.makedirs(tmp)
            Path(tmp, "new").write_text("new")
    assert (final / "keep").read_text() == "old" and not (final / "new").exists()
    assert leftovers(tmp_path) == []


def test_base_target_uses_luigi_naming_but_cleans_up(tmp_path):
    final = tmp_path / "x.jpg"
    with pytest.raises(Boom):
        with BaseAtomicProviderLocalTarget(str(final)).open("w"):
            (seen,) = [p.name for p in tmp_path.iterdir()]
            assert seen.startswith("x.jpg" + TMP_MARKER)
            raise Boom()
    assert list(tmp_path.iterdir()) == []


def test_luigi_atomic_file_is_what_we_improve_on(tmp_path):
    """luigi's own atomic_file keeps its temp file after an exception (until GC)."""
    final = tmp_path / "x.txt"
    handle = atomic_file(str(final))
    try:
        with handle:
            raise Boom()
    except Boom:
        pass
    assert [p.name for p in tmp_path.iterdir()] != []  # the leak we fix
    handle.close()


SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from luigi.format import Nop
    from csci_utils.luigi.target import SuffixPreservingLocalTarget
    path, chunks = sys.argv[1], int(sys.argv[2])
    with SuffixPreservingLocalTarget(path, format=Nop).open("w") as f:
        for i in range(chunks):
            f.write(b"N" * (1 << 20))
            f.flush()
            print(i, flush=True)
            time.sleep(0.05)
    """
)


@pytest.mark.parametrize("old_content", [None, b"old complete content"])
def test_sigkill_mid_write_never_exposes_a_partial_file(tmp_path, old_content):
    final = tmp_path / "big.bin"
    if old_content is not None:
        final.write_bytes(old_content)
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(final), "200"],
        stdout=subprocess.PIPE, text=True,
    )
    for _ in range(5):  # 5 MiB written and flushed to the temp file
        writer.stdout.readline()
    assert any(TMP_MARKER in p.name for p in tmp_path.iterdir())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    if old_content is None:
        assert not final.exists()
    else:
        assert final.read_bytes() == old_content


def _write_payload(path: str, byte: bytes, size: int, barrier) -> None:
    barrier.wait()
    with SuffixPreservingLocalTarget(path, format=Nop).open("w") as f:
        for _ in range(size // 65536):
            f.write(byte * 65536)


def test_concurrent_writers_leave_exactly_one_complete_content(tmp_path):
    final = str(tmp_path / "shared.bin")
    size = 8 << 20
    # fork: the children share the parent's ``random`` state, the case that
    # would give two writers one temp name if the names came from ``random``.
    ctx = multiprocessing.get_context("fork")
    for _ in range(3):
        barrier = ctx.Barrier(2)
        writers = [
            ctx.Process(target=_write_payload, args=(final, b, size, barrier)) for b in (b"A", b"B")
        ]
        for w in writers:
            w.start()
        seen = set()
        while any(w.is_alive() for w in writers):
            if os.path.exists(final):
                data = Path(final).read_bytes()
                assert len(data) == size and len(set(data)) == 1
                seen.add(data[:1])
            time.sleep(0.001)
        for w in writers:
            w.join()
            assert w.exitcode == 0
        data = Path(final).read_bytes()
        assert len(data) == size and data in (b"A" * size, b"B" * size)
        assert leftovers(tmp_path) == []


class WriteThumbnail(luigi.Task):
    path = luigi.Parameter()
    fail = luigi.BoolParameter(default=False)

    def output(self):
        return SuffixPreservingLocalTarget(self.path, format=Nop)

    def run(self):
        with self.output().open("w") as f:
            Image.new("RGB", (20, 10), (9, 9, 9)).save(f)
            if self.fail:
                raise Boom("failed after writing")


def test_through_luigi_build(tmp_path):
    ok = WriteThumbnail(path=str(tmp_path / "ok.jpg"))
    bad = WriteThumbnail(path=str(tmp_path / "bad.jpg"), fail=True)
    result = luigi.build([ok, bad], local_scheduler=True, detailed_summary=True)
    assert result.status != luigi.LuigiStatusCode.SUCCESS
    with Image.open(ok.output().path) as img:
        assert img.format == "JPEG"
    assert not os.path.exists(bad.output().path)
    assert leftovers(tmp_path) == []
