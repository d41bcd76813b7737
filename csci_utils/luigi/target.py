"""Atomic local targets whose temporary files keep the final file's suffixes.

luigi's own temp names (``photo.jpg-luigi-tmp-0123456789``) lose the extension,
so Pillow, OpenCV and friends cannot tell which format to write. Here the marker
goes before the suffixes instead: ``photo-luigi-tmp-0123456789.jpg``.

Guarantees, for both ``open('w')`` and ``temporary_path()``:

* the temporary file sits in the target's own directory, so the final step is a
  single ``os.replace`` on one filesystem: a reader sees the old complete file or
  the new complete one, never a partial file;
* the temporary file is flushed and fsync'ed before that rename;
* on an exception, nothing is moved, the temporary file (or directory) is removed
  at once (luigi's ``atomic_file`` leaves it until garbage collection), and the
  exception propagates;
* over an existing output, the new content **replaces** the old one atomically
  (last complete writer wins), exactly as luigi's ``open('w')`` does. A directory
  output cannot be replaced atomically, so ``temporary_path()`` refuses to
  overwrite an existing directory and cleans up instead.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from luigi.local_target import LocalTarget, atomic_file

from csci_utils.atomic import (
    TMP_MARKER,
    atomic_path,
    remove_quietly,
    split_suffixes,
    suffix_preserving_tmp_path,
    sweep_once,
    unique_marker,
)
from csci_utils.write_errors import is_refused_write, make_parent_folders, refused

__all__ = ["TMP_MARKER", "BaseAtomicProviderLocalTarget", "CleaningAtomicFile",
           "SuffixPreservingLocalTarget", "luigi_style_tmp_path", "split_suffixes",
           "suffix_preserving_atomic_file", "suffix_preserving_tmp_path"]


def luigi_style_tmp_path(path: str) -> str:
    """luigi's naming, ``photo.jpg-luigi-tmp-N``: the suffix is lost."""
    return os.fspath(path).rstrip("/") + unique_marker()


class CleaningAtomicFile(atomic_file):
    """luigi's ``atomic_file``, made durable and cleaned up at once on failure."""

    generate_tmp_path = staticmethod(luigi_style_tmp_path)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
            os.fsync(self.fileno())
            super().close()  # closes the temp file, then moves it into place
        except OSError as error:
            self.abort()
            if is_refused_write(error):  # disk full, read-only: name the final path
                raise refused(error, self.path) from error
            raise

    def abort(self) -> None:
        """Close and delete the temporary file without touching the final path."""
        if not self.closed:
            # Not atomic_file.close(): that one would move the file into place.
            io.BufferedWriter.close(self)
        remove_quietly(self.tmp_path)

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            self.abort()
            if is_refused_write(exc):
                raise refused(exc, self.path) from exc
            return None
        return super().__exit__(exc_type, exc, traceback)


class suffix_preserving_atomic_file(CleaningAtomicFile):  # noqa: N801 - luigi's naming
    """An atomic file whose temp name keeps the suffixes: ``x-luigi-tmp-N.jpg``."""

    generate_tmp_path = staticmethod(suffix_preserving_tmp_path)


class BaseAtomicProviderLocalTarget(LocalTarget):
    """A LocalTarget whose atomic writes go through ``atomic_provider``.

    Subclasses pick the temp-file policy by setting one class attribute; both
    ``open('w')`` and ``temporary_path()`` honour it.
    """

    atomic_provider = CleaningAtomicFile

    def open(self, mode: str = "r"):
        if mode.replace("b", "").replace("t", "") == "w":
            # luigi's makedirs() would swallow the cause
            sweep_once(os.path.dirname(self.path), made=make_parent_folders(self.path))
            return self.format.pipe_writer(self.atomic_provider(self.path))
        return super().open(mode)

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """Yield a temporary path to write; move it into place on success.

        Parent directories are created first. On an exception the temporary
        file or directory is removed and the exception propagates. A file
        output replaces any existing one atomically; an existing directory
        output raises ``FileExistsError`` (see the module docstring).
        """
        with atomic_path(self.path, self.atomic_provider.generate_tmp_path) as tmp_path:
            yield tmp_path


class SuffixPreservingLocalTarget(BaseAtomicProviderLocalTarget):
    """The local target to use for anything a library picks a format for by suffix."""

    atomic_provider = suffix_preserving_atomic_file


class ResultFileTarget(SuffixPreservingLocalTarget):
    """A result file: it exists only as a non-empty regular file.

    A directory, a symbolic link or a 0-byte file at the path cannot be a valid
    result, so the task that makes it is not counted done (and runs again).
    """

    def exists(self) -> bool:
        try:
            status = os.lstat(self.path)
        except OSError:
            return False
        return stat.S_ISREG(status.st_mode) and status.st_size > 0
