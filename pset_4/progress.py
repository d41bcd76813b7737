"""The command line's view of a batch: a live bar on a terminal, then one summary line.

A stylize task reports each image result with ``image_stylized(image)`` or
``image_failed(image)``, from whichever process runs it. The command line opens a
``CommandLineProgress`` around its build: a pipe whose write end luigi's forked
workers inherit, read by one thread here that moves the bar and keeps the counts.
With none open (``luigi.build`` from a test, the ``luigi`` command) a report does
nothing.

"Already done" comes from luigi itself: a result task found complete when the batch is
scheduled (``Event.DEPENDENCY_PRESENT``, in this process) counts its ``image_results``.
A task that stands for several images (a shard) sets ``image_results`` to their number,
and calls ``images_already_done(n)`` for the ones it finds done when it runs.

Each report is one ``os.write`` of a short line to the pipe, which is atomic for any
number of writers (under PIPE_BUF bytes): no lock a killed worker could leave held.
"""

from __future__ import annotations

import os
import select
import sys
import threading

STYLIZED, ALREADY_DONE, FAILED = "stylized", "already done", "failed"
STARTED = "started"  # a result task began running here: the bar appears
_END = "end"
_NAME_LIMIT = 200  # characters of an image name carried, so a report stays one atomic write
FAILED_NAMED = 3  # the summary names up to this many failed images

_writer: int | None = None  # the pipe's write end while a CommandLineProgress is open
_listening: CommandLineProgress | None = None  # that one, in the command line's process


def image_stylized(image: str) -> None:
    """Tell the command line that a result of ``image`` was made (from any process)."""
    _send(STYLIZED, 1, image)


def image_failed(image: str) -> None:
    """Tell the command line that a result of ``image`` failed (from any process)."""
    _send(FAILED, 1, image)


def images_already_done(count: int = 1) -> None:
    """Tell the command line that ``count`` results were found done at run time (a
    shard skipping what is on the remote already)."""
    _send(ALREADY_DONE, count)


def _send(outcome: str, count: int, image: str = "") -> None:
    """One report; from any process, never failing the caller. With no command line
    listening (no CommandLineProgress open) it does nothing."""
    writer = _writer
    if writer is None:
        return
    name = " ".join(str(image).split())[:_NAME_LIMIT]  # no tab or newline inside a report
    try:
        os.write(writer, f"{outcome}\t{count}\t{name}\n".encode())
    except OSError:  # the command line is gone: a progress report must not fail a task
        pass


def _image_results(task) -> int:
    return int(getattr(task, "image_results", 0) or 0)


def _on_start(task) -> None:
    if _image_results(task):
        _send(STARTED, 0)


def _on_present(task) -> None:
    batch = _listening  # luigi checks completeness in the command line's own process
    if batch is not None:
        count = batch._found_done(task)
        if count:
            _send(ALREADY_DONE, count)


_handlers_registered = False


def _register_luigi_handlers() -> None:
    """Once per process, by the first CommandLineProgress (never on import): luigi keeps
    handlers for good, and they do nothing while no CommandLineProgress is open."""
    global _handlers_registered
    if _handlers_registered:
        return
    import luigi

    luigi.Task.event_handler(luigi.Event.START)(_on_start)
    luigi.Task.event_handler(luigi.Event.DEPENDENCY_PRESENT)(_on_present)
    _handlers_registered = True


class CommandLineProgress:
    """Counts of a batch of ``total`` image results, and with ``bar`` a tqdm bar on
    ``stream`` (a terminal). Use it as a context manager around the build."""

    def __init__(self, total: int, *, bar: bool = False, stream=None) -> None:
        self.total = total
        self.counts = dict.fromkeys((STYLIZED, ALREADY_DONE, FAILED), 0)
        self.failed_images: list[str] = []  # distinct names, the first FAILED_NAMED + 1
        self._want_bar = bar
        self._stream = stream
        self._own_stream = None
        self._bar = None
        self._pipe: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None
        self._seen_done: set[str] = set()  # task ids found complete while scheduling

    def __enter__(self) -> CommandLineProgress:
        global _writer, _listening
        if _writer is not None:
            raise RuntimeError("a CommandLineProgress is already open in this process")
        _register_luigi_handlers()
        if self._want_bar and self._stream is None:
            # The bar's own file on a copy of stderr's descriptor: a worker forked while
            # the bar is mid-write would inherit sys.stderr's lock held, and hang on its
            # exit-time flush.
            self._own_stream = self._stream = open(  # closed in __exit__
                os.dup(sys.stderr.fileno()), "w", buffering=1,
                encoding=sys.stderr.encoding, errors="replace")
        self._pipe = os.pipe()
        _writer, _listening = self._pipe[1], self
        self._reader = threading.Thread(target=self._read, name="pset_4-progress", daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc_info) -> None:
        global _writer, _listening
        _send(_END, 0)  # luigi joined its workers: every report is in the pipe before this
        self._reader.join()
        _writer, _listening = None, None
        for end in self._pipe:
            os.close(end)
        if self._bar is not None:
            self._bar.refresh()  # the final count, even where the last update was throttled
            self._bar.close()
        if self._own_stream is not None:
            self._own_stream.close()
            self._own_stream = self._stream = None

    def _found_done(self, task) -> int:
        """How many image results luigi just found done in ``task``, each counted once
        (luigi checks a task once per root it is under)."""
        import luigi

        if task.task_id in self._seen_done:
            return 0
        self._seen_done.add(task.task_id)
        count = _image_results(task)
        if not count and isinstance(task, luigi.WrapperTask):  # done: so is all it requires
            count = sum(self._found_done(dep) for dep in luigi.task.flatten(task.requires()))
        return count

    def _read(self) -> None:
        pending = b""
        reader = self._pipe[0]
        while True:
            ready, _, _ = select.select([reader], [], [], 0.5)
            if not ready:
                if self._bar is not None:
                    self._bar.refresh()  # elapsed time moves on during a slow image
                continue
            pending += os.read(reader, 65536)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                outcome, count, image = line.decode(errors="replace").split("\t", 2)
                if outcome == _END:
                    return
                try:
                    self._count(outcome, int(count), image)
                except Exception:  # noqa: BLE001 - keep reading: a full pipe would stall workers
                    self._want_bar, self._bar = False, None

    def _count(self, outcome: str, count: int, image: str) -> None:
        if self._want_bar and self._bar is None and outcome != ALREADY_DONE:
            # This run's first task: what luigi found done so far is the bar's start, not its rate.
            self._bar = self._new_bar(initial=self.done)
        if outcome in self.counts:
            self.counts[outcome] += count
        if outcome == FAILED and image not in self.failed_images \
                and len(self.failed_images) <= FAILED_NAMED:
            self.failed_images.append(image)
        if self._bar is not None and outcome != STARTED:
            self._bar.update(count)

    def _new_bar(self, initial: int):
        from tqdm import tqdm  # lazy: only a terminal shows a bar

        return tqdm(total=self.total, initial=initial, file=self._stream, unit="image",
                    desc="pset_4", leave=False, dynamic_ncols=True)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def summary(self, prog: str, seconds: float, *, all_done: bool) -> str:
        """``PROG: 12 stylized, 3 already done, 1 failed (bad.jpg) in 8.4 s``.

        Results this process neither made nor found done are "by other workers"
        when the batch is complete (luigid shared it), else "not done".
        """
        stylized, already, failed = (self.counts[key] for key in (STYLIZED, ALREADY_DONE, FAILED))
        words = f"{failed} failed"
        if self.failed_images:
            named = ", ".join(self.failed_images[:FAILED_NAMED])
            more = len(self.failed_images) > FAILED_NAMED
            words += f" ({named}, ...; --verbose lists them all)" if more else f" ({named})"
        parts = [f"{stylized} stylized", f"{already} already done", words]
        rest = self.total - stylized - already - failed
        if rest > 0:
            parts.append(f"{rest} {'by other workers' if all_done else 'not done'}")
        return f"{prog}: {', '.join(parts)} in {seconds:.1f} s"
