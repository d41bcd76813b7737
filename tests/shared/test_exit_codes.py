"""One table of exit codes: luigi.cfg [retcode] and csci_utils.exit_codes agree."""

import configparser
from pathlib import Path

from luigi.execution_summary import LuigiStatusCode

from csci_utils.exit_codes import RETCODES
from csci_utils.luigi.run_report import EXIT_CODES

REPO = Path(__file__).resolve().parents[2]


def test_luigi_cfg_retcode_is_the_code_table():
    parser = configparser.ConfigParser()
    parser.read(REPO / "luigi.cfg")
    from_cfg = {option: parser.getint("retcode", option) for option in parser.options("retcode")}
    assert from_cfg == RETCODES


def test_every_luigi_status_has_an_exit_code_from_the_table():
    assert set(EXIT_CODES) == set(LuigiStatusCode)
    assert set(EXIT_CODES.values()) <= {0, *RETCODES.values()}
    assert EXIT_CODES[LuigiStatusCode.FAILED] == RETCODES["task_failed"]
    assert EXIT_CODES[LuigiStatusCode.MISSING_EXT] == RETCODES["missing_data"]
