"""Progress on the command line: a live bar on a terminal, one summary line at the end.

The bar is checked under a pseudo-terminal (the CLI's stderr is a pty's slave end);
in a pipe only the summary line appears. Counts come from any worker process.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from sample_photos import small_photo

from pset_4 import progress

SUMMARY = re.compile(
    r"^pset_4: (\d+) stylized, (\d+) already done, (\d+) failed( \(.*\))?(, .*)? in \d+\.\d s$"
)
IMAGES = ["p0.png", "p1.png", "p2.png"]


def _add_images(store, names=IMAGES, size=64):
    for turn, name in enumerate(names):
        small_photo(size).rotate(90 * turn).save(store / "images" / name)


def _cli_command(store, tmp_path, *argv):
    return [sys.executable, "-m", "pset_4", "--remote", str(store),
            "--local-root", str(tmp_path / "data"), "--output-dir", str(tmp_path / "stylized"),
            *argv]


def _run_on_a_terminal(command) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pty (100 columns) and stdout on a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave,
                             stdin=subprocess.DEVNULL)
    os.close(slave)
    terminal = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(master)
    stdout = child.stdout.read().decode()
    child.stdout.close()
    return child.wait(timeout=60), stdout, terminal.decode()


def test_a_terminal_shows_a_live_bar_with_rate_and_ends_with_the_summary(store, tmp_path):
    _add_images(store)
    command = _cli_command(store, tmp_path, *(f"-i={name}" for name in IMAGES))
    code, stdout, terminal = _run_on_a_terminal(command)
    assert code == 0, terminal
    assert len(stdout.splitlines()) == len(IMAGES)  # stdout keeps one line per result
    frames = [frame for frame in re.split(r"[\r\n]", terminal) if frame.strip()]
    bars = [frame for frame in frames if "image" in frame and "|" in frame]
    assert any("3/3" in frame for frame in bars), frames
    # tqdm's rate and ETA: "[00:01<00:00,  2.50image/s]" (or "1.20s/image" when slow).
    assert any(re.search(r"<\d\d:\d\d, +\d+\.\d+(image/s|s/image)\]", frame) for frame in bars)
    assert SUMMARY.match(frames[-1]) and frames[-1].startswith("pset_4: 3 stylized, 0 already")

    # --verbose: luigi's log instead of the bar (it would tear the log lines), summary last.
    code, stdout, terminal = _run_on_a_terminal([*command, "--verbose"])
    assert code == 0 and len(stdout.splitlines()) == len(IMAGES), terminal
    lines = [line for line in terminal.splitlines() if line.strip()]
    assert "image/s" not in terminal and "Luigi Execution Summary" in terminal
    assert lines[-1].startswith("pset_4: 0 stylized, 3 already done, 0 failed in "), lines[-1]


def test_in_a_pipe_only_the_summary_line_is_printed(store, tmp_path):
    _add_images(store, IMAGES[:2])
    command = _cli_command(store, tmp_path, *(f"-i={name}" for name in IMAGES[:2]))
    first = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == first.stdout
    for run, words in ((first, "2 stylized, 0 already done"),
                       (again, "0 stylized, 2 already done")):
        assert "\r" not in run.stderr
        [line] = run.stderr.splitlines()
        assert SUMMARY.match(line) and words in line, line
        assert len(run.stdout.splitlines()) == 2


@pytest.mark.parametrize("option, workers", [("B", 1), ("B", 2), ("A", 2)])
def test_counts_with_one_done_one_corrupt_and_one_new(store, tmp_path, run_cli, option, workers):
    _add_images(store, ["done.png", "new.png"])
    (store / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n but then no image")
    code, _, err = run_cli("-i", "done.png", remote=store)
    assert code == 0, err
    code, paths, err = run_cli("-i", "done.png", "-i", "new.png", "-i", "corrupt.png",
                               "--workers", str(workers), "--option", option, remote=store)
    assert code == 30 and paths == []
    error, summary = err.strip().splitlines()  # the error line, then the summary last
    assert error.startswith("pset_4: error: ") and "corrupt.png" in error
    assert SUMMARY.match(summary), summary
    assert summary.startswith("pset_4: 1 stylized, 1 already done, 1 failed (corrupt.png) in ")


def test_a_result_under_two_roots_is_already_done_once(store, tmp_path, run_cli):
    # The rerun's StylizeAll is complete (its results count through it), and each
    # ContactSheet, still to make, has luigi check the same results again.
    _add_images(store, IMAGES[:2])
    argv = [f"-i={name}" for name in IMAGES[:2]]
    code, _, err = run_cli(*argv, "--style", "1", "--style", "2", remote=store)
    assert code == 0, err
    code, paths, err = run_cli(*argv, "--style", "1", "--style", "2", "--contact-sheet",
                               remote=store)
    assert code == 0 and len(paths) == 6, err
    [summary] = err.splitlines()
    assert summary.startswith("pset_4: 0 stylized, 4 already done, 0 failed in "), summary


def _report_from_a_child(report, *args):
    report(*args)


def test_reports_from_forked_processes_reach_the_counts_and_name_a_few_failures():
    fork = multiprocessing.get_context("fork")
    with progress.CommandLineProgress(12) as batch:
        children = [fork.Process(target=_report_from_a_child, args=args) for args in [
            *[(progress.image_stylized, "a.png")] * 3, (progress.images_already_done, 2),
            *[(progress.image_failed, f"bad-{n}.png") for n in range(5)],
        ]]
        for child in children:
            child.start()
        for child in children:
            child.join()
        progress.image_stylized("b.png")  # this process too
    assert batch.counts == {progress.STYLIZED: 4, progress.ALREADY_DONE: 2, progress.FAILED: 5}
    line = batch.summary("pset_4", 1.25, all_done=False)
    assert SUMMARY.match(line), line
    assert line.startswith("pset_4: 4 stylized, 2 already done, 5 failed (bad-")
    assert "...; --verbose lists them all), 1 not done in 1.2 s" in line
    one = progress.CommandLineProgress(3)
    one.counts[progress.STYLIZED] = 1
    assert one.summary("p", 0.04, all_done=True) == \
        "p: 1 stylized, 0 already done, 0 failed, 2 by other workers in 0.0 s"


def test_with_nobody_listening_a_report_does_nothing_and_importing_registers_nothing():
    progress.image_stylized("a.png")  # no CommandLineProgress: no error, no effect
    check = ("import luigi, pset_4.progress, pset_4.tasks.stylize; "
             "ours = [f for events in luigi.Task._event_callbacks.values() "
             "for handlers in events.values() for f in handlers "
             "if f.__module__ == 'pset_4.progress']; assert not ours, ours")
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)
