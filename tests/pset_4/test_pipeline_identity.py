"""Identity: results and cached inputs are keyed on the remote and on what they were made from."""

from __future__ import annotations

import shutil

import luigi
from sample_photos import SMALL_IMAGE, small_photo

RAN: list[str] = []


@luigi.Task.event_handler(luigi.Event.SUCCESS)
def _record_run(task):
    RAN.append(type(task).__name__)


def test_switching_remote_never_returns_another_remotes_result(store, tmp_path, run_cli):
    other = tmp_path / "other-remote"
    shutil.copytree(store, other)
    code, [first], err = run_cli("-i", SMALL_IMAGE, remote=store)
    assert code == 0, err
    RAN.clear()
    code, [second], err = run_cli("-i", SMALL_IMAGE, remote=other)
    assert code == 0, err
    assert "StylizeShard" in RAN  # made again for the other remote, not served from the first
    assert first != second
    assert [p.name for p in (other / "stylized").rglob("*.png")]  # and it is on the other remote


def test_a_missing_bucket_fails_with_one_line_even_with_a_same_named_result_elsewhere(
    s3_server, store, tmp_path, run_cli
):
    code, _, err = run_cli("-i", SMALL_IMAGE, remote=store)
    assert code == 0, err
    code, paths, err = run_cli("-i", SMALL_IMAGE, "--no-seed", remote="s3://no-such-bucket-here/p")
    assert code != 0 and paths == []
    [line] = err.strip().splitlines()
    assert "no-such-bucket-here" in line and "does not exist" in line


def test_a_replaced_input_reruns_exactly_its_results_and_unchanged_inputs_are_not_downloaded_again(
    store, tmp_path, run_cli
):
    small_photo(mirror=True).save(store / "images" / "other.png")
    args = ("-i", SMALL_IMAGE, "-i", "other.png", "--style", "1")
    code, first, err = run_cli(*args, remote=store)
    assert code == 0, err
    cached = sorted((tmp_path / "data").rglob("images/*/*"))
    mtimes = {path: path.stat().st_mtime_ns for path in cached}

    RAN.clear()
    code, again, err = run_cli(*args, remote=store)
    assert code == 0 and again == first and "StylizeShard" not in RAN

    small_photo(80).save(store / "images" / "other.png")  # same name, new bytes
    RAN.clear()
    code, third, err = run_cli(*args, remote=store)
    assert code == 0, err
    assert RAN.count("StylizeShard") == 1  # only other.png's result
    assert third[0] == first[0] and third[1] != first[1]
    assert {path: path.stat().st_mtime_ns for path in cached} == mtimes  # nothing downloaded twice
    assert len(sorted((tmp_path / "data").rglob("images/*/other.png"))) == 2  # old and new copies


def test_an_unreachable_luigid_is_one_line_and_non_zero(store, run_cli):
    code, paths, err = run_cli(
        "-i", SMALL_IMAGE, "--scheduler-url", "http://127.0.0.1:9", remote=store
    )
    assert code != 0 and paths == []
    [line] = err.strip().splitlines()
    assert "cannot reach luigid at http://127.0.0.1:9" in line
