"""Command-line parsing: defaults, validation, one-line errors (no Luigi run needed)."""

import pytest

from pset_4 import cli


def test_defaults_stylize_the_seeded_sample_on_the_embedded_store():
    args = cli.parse_args([])
    assert args.images == ["grace_hopper.jpg"]
    assert args.models == ["multistyle26.pth"]
    assert args.styles == [0]
    assert args.option == "B" and args.workers == 1
    assert args.scheduler_url is None and not args.local_scheduler
    assert cli._scheduling(args) == {"local_scheduler": True}  # no luigid in luigi.cfg
    assert args.remote == "data/remote/pset_4"  # luigi.cfg [pset_4]
    assert args.seed is True


def test_scheduler_comes_from_the_flag_then_luigi_cfg():
    from luigi.configuration import get_config

    url = "http://127.0.0.1:8099"
    assert cli._scheduling(cli.parse_args(["--scheduler-url", url])) == {
        "scheduler_url": url,
        "local_scheduler": False,
    }
    get_config().set("core", "default_scheduler_url", url)
    try:
        assert cli._scheduling(cli.parse_args([])) == {"local_scheduler": False}
        assert cli._scheduling(cli.parse_args(["--local-scheduler"])) == {"local_scheduler": True}
    finally:
        get_config().remove_option("core", "default_scheduler_url")


def test_repeatable_options_collect_every_value():
    args = cli.parse_args(["-i", "a.jpg", "--image", "b.png", "-m", "x.pth", "-m", "y.pth",
                           "--style", "1", "--style", "7", "--option", "A", "--workers", "2"])
    assert args.images == ["a.jpg", "b.png"]
    assert args.models == ["x.pth", "y.pth"]
    assert args.styles == [1, 7]
    assert args.option == "A" and args.workers == 2


def test_an_s3_remote_is_not_seeded_unless_asked():
    assert cli.parse_args(["--remote", "s3://bucket/p"]).seed is False
    assert cli.parse_args(["--remote", "s3://bucket/p", "--seed"]).seed is True
    assert cli.parse_args(["--no-seed"]).seed is False


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["-i", "../etc/passwd"], "image name '../etc/passwd' contains a path separator"),
        (["-i", "..", "-m", "x.pth"], "image name '..' names a folder"),
        (["-m", "models/x.pth"], "model name 'models/x.pth' contains a path separator"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--option", "C"], "invalid choice: 'C'"),
        (["--local-scheduler", "--scheduler-url", "http://x"], "not allowed with argument"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    [line] = err.splitlines()
    assert line.startswith("python -m pset_4: error: ")
