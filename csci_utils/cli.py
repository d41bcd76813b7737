"""What every command line of this repo shares: one-line usage errors and one way to build.

    parser = OneLineErrorParser(prog="python -m pset_4")
    ...
    return run_build(tasks, prog="pset_4", verbose=args.verbose, workers=args.workers)

Importing this module does not import luigi (the audit starts its probes first).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

from .exit_codes import RETCODES, SIGNAL_BASE, USAGE_ERROR
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
              explain: Callable | None = None, watch: AbstractContextManager | None = None,
              **build_options) -> int:
    """``luigi.build(tasks, detailed_summary=True, ...)`` and its exit code.

    On failure prints ``PROG: error: <one line>`` on stderr; ``explain(result)``
    words the line (default: the first failure csci_utils.luigi explains). With
    ``verbose`` luigi's summary is printed too. ``watch`` is held around the build
    alone (a progress bar), so it is closed before any line is printed.
    ``build_options`` go to luigi.build
    (workers, local_scheduler, scheduler_url, log_level...).
    """
    import luigi  # lazy: see the module docstring

    from csci_utils.luigi.final_failures import FinalFailureFactory
    from csci_utils.luigi.listing import fresh_listings
    from csci_utils.luigi.run_report import exit_code, failure_line

    tasks = list(tasks)
    # fresh_listings: a listing answers this build's completeness checks, then goes.
    with warnings.catch_warnings(), fresh_listings(), watch or nullcontext():
        # luigi reads [core] default_scheduler_url itself (core.scheduler_url), yet
        # warns on stderr that its core task does not consume it.
        warnings.filterwarnings("ignore", message=r".*'default_scheduler_url'.*'core'")
        # A failed task is final within the run, also for the other workers of a
        # batch shared on luigid (they would wait for luigid's retry): final_failures.
        result = luigi.build(tasks, detailed_summary=True,
                             worker_scheduler_factory=FinalFailureFactory(), **build_options)
    if verbose:
        print(result.summary_text, file=sys.stderr)
    code = exit_code(result, tasks)
    if code:
        line = redact_userinfo((explain or failure_line)(result))  # never print a credential
        print(f"{prog}: error: {line}", file=sys.stderr)
    return code


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT, raised where the program is, so every ``finally`` and
    ``atomic_path`` cleanup runs on the way out.

    A KeyboardInterrupt because luigi's worker re-raises only that: it turns any
    other exception, BaseException included, into a failed task and goes on.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return SIGNAL_BASE + self.signum

    def line(self, prog: str) -> str:
        return f"{prog}: error: interrupted by {signal.Signals(self.signum).name}"


# SIGTERM's handler is set last: Python catches SIGINT from its start, so a caught
# SIGTERM (SigCgt in /proc/PID/status, what the interrupt tests wait for) means both are ours.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_cleanly_on_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGINT raise ``Interrupted`` (once; a second one
    during the cleanup is ignored). Processes forked inside (luigi's workers)
    inherit it. The previous handlers come back on the way out. Main thread only.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (a caller's thread keeps its own)
        return
    owner = os.getpid()

    def stop(signum, _frame):
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)  # let the cleanup finish
        if os.getpid() != owner:  # a forked luigi worker: fail the task, clean up, exit
            raise SystemExit(SIGNAL_BASE + signum)
        raise Interrupted(signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stops_cleanly_on_signals(prog: str) -> Callable:
    """Decorate an entry point ``main(argv=None) -> int``: it runs inside
    ``stop_cleanly_on_signals``, and an ``Interrupted`` becomes one line on stderr
    and exit 128 + N (143 SIGTERM, 130 SIGINT); ``--verbose`` adds the traceback.
    """
    def decorate(main: Callable) -> Callable:
        @functools.wraps(main)
        def entry_point(argv: Sequence[str] | None = None) -> int:
            try:
                with stop_cleanly_on_signals():
                    return main(argv)
            except Interrupted as interrupt:  # the temp files were removed on the way out
                if "--verbose" in (sys.argv[1:] if argv is None else argv):
                    traceback.print_exc()
                print(interrupt.line(prog), file=sys.stderr)
                return interrupt.exit_code
        return entry_point
    return decorate
