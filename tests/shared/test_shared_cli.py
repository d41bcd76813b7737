"""csci_utils.cli, the failure mixin and the first-line helper, through luigi.build."""

from __future__ import annotations

import luigi
import luigi.configuration
import pytest

from csci_utils.cli import OneLineErrorParser, apply_default_retcodes, run_build
from csci_utils.exit_codes import RETCODES, USAGE_ERROR
from csci_utils.luigi.failure import OneLineFailure
from csci_utils.one_line import first_line, last_line


class ExpectedProblem(Exception):
    pass


class Failing(OneLineFailure, luigi.Task):
    EXPECTED_ERRORS = (ExpectedProblem,)
    expected = luigi.BoolParameter()
    marker = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.marker)

    def run(self):
        if self.expected:
            raise ExpectedProblem("the input is bad")
        raise KeyError("surprise")


class Fine(luigi.Task):
    marker = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.marker)

    def run(self):
        with self.output().open("w") as handle:
            handle.write("ok")


def test_parser_errors_are_one_line_exit_2(capsys):
    parser = OneLineErrorParser(prog="prog")
    parser.add_argument("--n", type=int)
    args, code = parser.parse_or_exit_code(["--n", "x"])
    assert args is None and code == USAGE_ERROR
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("prog: error: argument --n") and line.endswith("(see --help)")
    args, code = parser.parse_or_exit_code(["--n", "3"])
    assert args.n == 3 and code is None


def test_run_build_success_is_0_and_silent(tmp_path, capsys):
    assert run_build([Fine(marker=str(tmp_path / "ok"))], prog="prog", local_scheduler=True,
                     log_level="CRITICAL") == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("expected, line", [
    (True, "prog: error: the input is bad"),
    (False, "prog: error: Failing failed: KeyError: 'surprise'"),
])
def test_run_build_failure_is_the_task_failed_code_and_one_line(tmp_path, capsys, expected, line):
    task = Failing(expected=expected, marker=str(tmp_path / "never"))
    code = run_build([task], prog="prog", local_scheduler=True, log_level="CRITICAL")
    assert code == RETCODES["task_failed"]
    err = capsys.readouterr().err
    assert err.splitlines() == [line]


def test_run_build_verbose_adds_luigis_summary(tmp_path, capsys):
    task = Failing(expected=True, marker=str(tmp_path / "never"))
    run_build([task], prog="prog", verbose=True, local_scheduler=True, log_level="CRITICAL")
    err = capsys.readouterr().err
    assert "This progress looks :(" in err and err.endswith("prog: error: the input is bad\n")


def test_run_build_explain_words_the_line(tmp_path, capsys):
    task = Failing(expected=True, marker=str(tmp_path / "never"))
    run_build([task], prog="prog", explain=lambda result: "custom", local_scheduler=True,
              log_level="CRITICAL")
    assert capsys.readouterr().err == "prog: error: custom\n"


def test_default_retcodes_fill_only_what_is_unset():
    config = luigi.configuration.get_config()
    saved = dict(config.items("retcode")) if config.has_section("retcode") else None
    try:
        if saved is not None:
            config.remove_section("retcode")
        config.add_section("retcode")
        config.set("retcode", "task_failed", "99")
        apply_default_retcodes(("task_failed", "missing_data"))
        assert config.get("retcode", "task_failed") == "99"
        assert config.getint("retcode", "missing_data") == RETCODES["missing_data"]
        assert not config.has_option("retcode", "not_run")
    finally:
        config.remove_section("retcode")
        if saved is not None:
            config.add_section("retcode")
            for option, value in saved.items():
                config.set("retcode", option, value)


@pytest.mark.parametrize("value, first, last", [
    (ValueError("  one\n\n two \n"), "one", "two"),
    (ValueError(""), "ValueError", ""),
    ("\n\nlast words\n", "last words", "last words"),
    ("", "", ""),
])
def test_first_and_last_line(value, first, last):
    assert first_line(value) == first
    assert last_line(value) == last
    assert first_line("", default="none") == "none"
