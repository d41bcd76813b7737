"""Every exit status our command lines use, in one place.

``RETCODES`` are luigi.cfg's ``[retcode]`` numbers (a test checks that the two
agree); ``csci_utils.luigi.run_report`` maps a LuigiRunResult onto them.
"""

from __future__ import annotations

SUCCESS = 0
UNEXPECTED = 1  # a status luigi added later, or an error the CLI turned into one line
USAGE_ERROR = 2  # bad command-line arguments (argparse's own number)
SIGNAL_BASE = 128  # killed by signal N: exit 128 + N (the shell's rule: SIGINT 130, SIGTERM 143)

RETCODES = {
    "already_running": 10,
    "missing_data": 20,
    "not_run": 25,
    "task_failed": 30,
    "scheduling_error": 35,
    "unhandled_exception": 40,
}
