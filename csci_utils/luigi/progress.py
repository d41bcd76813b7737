"""Byte counts from copy threads, turned into a few luigi progress updates.

While a copy runs, a watchdog notices when nothing has moved for ``STALL_S``
seconds (a silent or slow endpoint) and says so in the task's status message
(the visualiser of luigid shows it) and in the log, with the time after which
the copy gives up, until bytes move again or the copy ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("luigi-interface")

MiB = 1024 * 1024
STALL_S = 2.0  # seconds without a byte after which a copy is reported as waiting
ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes in total)


class ByteTally:
    """Adds up byte counts reported from any thread and forwards (done, total)."""

    def __init__(self, total: int, report: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self._report = report
        self._lock = threading.Lock()

    def __call__(self, count: int) -> None:
        with self._lock:
            self.done += count
            done = self.done
        if self._report is not None:
            self._report(done, self.total)


class TaskProgress:
    """Reports a copy on a luigi task: percentage plus a "what, how far" message.

    Updates are throttled (at most every ``interval`` seconds, and only when
    the percentage moved) because with a central scheduler each one is an
    HTTP call. Used as a context manager around the copy, it also reports a
    stall (see the module docstring); ``gives_up_after`` (seconds, None when
    unknown) is quoted in that message. ``stall_s=None``: no watchdog (and no thread).
    """

    def __init__(self, task, verb: str, url: str, interval: float = 0.5,
                 gives_up_after: float | None = None, stall_s: float | None = STALL_S) -> None:
        self.task, self.verb, self.url, self.interval = task, verb, url, interval
        self.gives_up_after, self.stall_s = gives_up_after, stall_s
        self._last_percent = -1
        self._last_time: float | None = None  # the first update is never held back
        self._last_activity = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._watchdog: threading.Thread | None = None

    def __enter__(self) -> TaskProgress:
        self._last_activity = time.monotonic()
        if self.stall_s is None:
            return self
        self._watchdog = threading.Thread(target=self._watch, daemon=True,
                                          name=f"stall watchdog: {self.url}")
        self._watchdog.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        if self._watchdog is not None:
            self._watchdog.join()

    def _watch(self) -> None:
        reported = 0  # whole seconds of silence last reported (one message per second)
        while not self._done.wait(min(self.interval, self.stall_s)):
            quiet = int(time.monotonic() - self._last_activity)
            if quiet < self.stall_s:
                reported = 0
            elif quiet > reported:
                if not reported:
                    logger.warning("%s %s: no progress for %d s, still waiting", self.verb,
                                   self.url, quiet)
                reported = quiet
                self._stalled(quiet)

    def _stalled(self, quiet: int) -> None:
        bound = "" if self.gives_up_after is None else \
            f", giving up after {self.gives_up_after:g} s"
        with self._lock:
            self.task.set_status_message(
                f"{self.verb} {self.url}: no progress for {quiet} s, waiting for the remote{bound}")

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        now = time.monotonic()
        self._last_activity = now
        with self._lock:
            finished = done >= total
            # Threads report out of order: never move the bar backwards.
            too_soon = self._last_time is not None and now - self._last_time < self.interval
            if percent <= self._last_percent or (too_soon and not finished):
                return
            self._last_percent, self._last_time = percent, now
            self.task.set_progress_percentage(percent)
            self.task.set_status_message(
                f"{self.verb} {self.url}: {done / MiB:.1f} of {total / MiB:.1f} MiB ({percent}%)"
            )

    def note(self, message: str) -> None:
        with self._lock:
            self.task.set_status_message(f"{self.verb} {self.url}: {message}")


class BatchProgress:
    """A task that makes many files reports per file: percentage = files finished / files,
    the message says how far and what it is doing now.

    It stands in for the task as the ``reporter`` of each file's steps (and of
    their TaskProgress): messages go through, a file's own percentage is left
    out. The scheduler hears at most one update per ``interval`` seconds (each
    is an HTTP call on luigid), and always the last one.
    """

    def __init__(self, task, total: int, interval: float = 0.5) -> None:
        self.task, self.total, self.interval = task, total, interval
        self.finished = self.skipped = self.failed = 0
        self._message = ""
        self._last_time: float | None = None
        self._lock = threading.Lock()

    def set_status_message(self, message: str) -> None:
        with self._lock:
            self._message = message
        self._update()

    def set_progress_percentage(self, percentage: int) -> None:
        """A file's own percentage: the batch counts files instead."""

    def file_done(self, outcome: str = "made") -> None:
        """One file finished: ``made``, ``skipped`` (it was there already) or ``failed``."""
        with self._lock:
            self.finished += 1
            if outcome == "skipped":
                self.skipped += 1
            elif outcome == "failed":
                self.failed += 1
        self._update()

    def summary(self) -> str:
        made = self.finished - self.skipped - self.failed
        return (f"{self.finished} of {self.total} finished: {made} made, {self.skipped} "
                f"already there, {self.failed} failed")

    def finish(self) -> None:
        """The last update: the summary, and the last file's last step."""
        with self._lock:
            self._message = f"{self.summary()}; last: {self._message}"
        self._update(force=True, prefix=False)

    def _update(self, force: bool = False, prefix: bool = True) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and self._last_time is not None and now - self._last_time < self.interval:
                return
            self._last_time = now
            percent = 100 if self.total <= 0 else self.finished * 100 // self.total
            message = (f"{self.finished}/{self.total} ({self.failed} failed): {self._message}"
                       if prefix else self._message)
        self.task.set_progress_percentage(percent)
        self.task.set_status_message(message)
