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


def _style_picture(name: str, store, as_name: str | None = None) -> None:
    from matplotlib import cbook
    from PIL import Image

    (store / "styles").mkdir(exist_ok=True)
    with Image.open(cbook.get_sample_data(name, asfileobj=False)) as picture:
        picture.convert("RGB").save(store / "styles" / (as_name or name))


def test_a_replaced_style_picture_reruns_exactly_its_results_with_fresh_bytes(
    store, tmp_path, run_cli
):
    small_photo(mirror=True).save(store / "images" / "other.png")
    _style_picture("logo2.png", store, "picture.png")
    _style_picture("Minduka_Present_Blue_Pack.png", store, "kept.png")
    images = ("-i", SMALL_IMAGE, "-i", "other.png")
    runs = {"picture": (*images, "--style-image", "picture.png"),
            "kept": (*images, "--style-image", "kept.png"),
            "model": (*images, "--style", "1")}
    first = {}
    for run, args in runs.items():
        code, first[run], err = run_cli(*args, remote=store)
        assert code == 0 and len(first[run]) == 2, err
    before = {path: open(path, "rb").read() for paths in first.values() for path in paths}
    kept_copies = sorted((tmp_path / "data").rglob("styles/*/kept.png"))
    kept_mtimes = [path.stat().st_mtime_ns for path in kept_copies]

    _style_picture("Minduka_Present_Blue_Pack.png", store, "picture.png")  # same name, new bytes
    again = {}
    for run, args in runs.items():
        RAN.clear()
        code, again[run], err = run_cli(*args, remote=store)
        assert code == 0, err
        # Exactly the results made from the replaced picture run again.
        assert RAN.count("StylizeShard") == (2 if run == "picture" else 0), (run, RAN)
    assert again["kept"] == first["kept"] and again["model"] == first["model"]
    for new, old in zip(again["picture"], first["picture"]):
        assert new != old  # a new key: the picture's identity is in it
        assert open(new, "rb").read() != before[old]  # fresh bytes, from the new picture
    assert {path: open(path, "rb").read() for path in before} == before  # nothing overwritten
    # The new picture was downloaded; the unchanged one was not downloaded again.
    assert len(sorted((tmp_path / "data").rglob("styles/*/picture.png"))) == 2
    assert [path.stat().st_mtime_ns for path in kept_copies] == kept_mtimes
    assert sorted((tmp_path / "data").rglob("styles/*/kept.png")) == kept_copies


def test_a_contact_sheet_is_on_the_remote_and_made_once_from_results_made_elsewhere(
    store, tmp_path, run_cli
):
    styles = ("-i", SMALL_IMAGE, "--style", "0", "--style", "9")
    code, made, err = run_cli(*styles, remote=store)  # machine 1: the results only
    assert code == 0 and len(made) == 2, err

    machine = {"two": tmp_path / "machine-two", "three": tmp_path / "machine-three"}
    RAN.clear()
    code, lines, err = run_cli(*styles, "--contact-sheet", "--local-root",
                               str(machine["two"] / "data"), remote=store,
                               output_dir=machine["two"] / "stylized")
    assert code == 0 and len(lines) == 3, err
    assert RAN.count("StylizeShard") == 0 and RAN.count("ContactSheet") == 1, RAN
    [on_remote] = (store / "stylized").rglob("*contact-sheet--2-results--*.png")
    assert open(lines[-1], "rb").read() == on_remote.read_bytes()  # the local copy is a cache

    RAN.clear()
    code, again, err = run_cli(*styles, "--contact-sheet", "--local-root",
                               str(machine["three"] / "data"), remote=store,
                               output_dir=machine["three"] / "stylized")
    assert code == 0 and RAN == [], (RAN, err)  # done on the remote: nothing made
    assert again[-1] == str(on_remote)  # a machine without a copy names the remote object
    assert not (machine["three"] / "stylized").exists()
