"""What every command line of this repo shares: one-line usage errors and one way to build.

    parser = OneLineErrorParser(prog="python -m pset_4")
    ...
    return run_build(tasks, prog="pset_4", verbose=args.verbose, workers=args.workers)

Importing this module does not import luigi (the audit starts its probes first).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .exit_codes import RETCODES, USAGE_ERROR
from .urls import redact_userinfo


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line on stderr (exit 2), not the whole usage."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")

    def parse_or_exit_code(self, argv: Sequence[str] | None):
        """``(namespace, None)``, or ``(None, exit code)`` once argparse printed its line."""
        try:
            return self.parse_args(argv), None
        except SystemExit as exit_:
            return None, exit_.code if isinstance(exit_.code, int) else USAGE_ERROR


def apply_default_retcodes(options: Sequence[str] = tuple(RETCODES)) -> None:
    """Give luigi's [retcode] our numbers where no luigi.cfg set them (explicit settings win).

    For entry points run outside this repo, where its luigi.cfg is not read, so
    that ``luigi ...`` exits non-zero on failure. Call it from an entry point.
    """
    import luigi.configuration  # lazy: this module stays luigi-free until a build

    config = luigi.configuration.get_config()
    if not config.has_section("retcode"):
        config.add_section("retcode")
    for option in options:
        if not config.has_option("retcode", option):
            config.set("retcode", option, str(RETCODES[option]))


def run_build(tasks: Sequence, *, prog: str, verbose: bool = False,
              explain: Callable | None = None, **build_options) -> int:
    """``luigi.build(tasks, detailed_summary=True, ...)`` and its exit code.

    On failure prints ``PROG: error: <one line>`` on stderr; ``explain(result)``
    words the line (default: the first failure csci_utils.luigi explains). With
    ``verbose`` luigi's summary is printed too. ``build_options`` go to luigi.build
    (workers, local_scheduler, scheduler_url, log_level...).
    """
    import luigi  # lazy: see the module docstring

    from csci_utils.luigi.run_report import exit_code, failure_line

    tasks = list(tasks)
    result = luigi.build(tasks, detailed_summary=True, **build_options)
    if verbose:
        print(result.summary_text, file=sys.stderr)
    code = exit_code(result, tasks)
    if code:
        line = redact_userinfo((explain or failure_line)(result))  # never print a credential
        print(f"{prog}: error: {line}", file=sys.stderr)
    return code
