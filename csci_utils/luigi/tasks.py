"""Generic transfer tasks: a file on a remote root, a file on the local disk, and the
two copies between them.

Subclasses specialise by class attributes only::

    class DownloadImage(Download):
        SHARED_RELATIVE_PATH = "images"
        CONFIG_SECTION = "pset_4"
        SOURCE = ContentImage          # optional: the RemoteFile subclass it copies

A root parameter left empty is read from ``[CONFIG_SECTION] remote_root`` /
``local_root`` in luigi.cfg. Download's output is the very path LocalFile
names, so with both Upload and Download in a graph luigi skips whichever side
already has the file: a fresh machine downloads, a laptop that has it uploads.
"""

from __future__ import annotations

import logging
import os

import luigi
import luigi.format

from .errors import TransferError
from .failure import OneLineFailure
from .progress import TaskProgress
from .roots import FolderRoot, join_relative, parse_root, remote_target
from .run_report import explain_task
from .target import SuffixPreservingLocalTarget
from .transfer import download, upload

logger = logging.getLogger("luigi-interface")

DEFAULT_CONFIG_SECTION = "transfer"


class _RootedFile:
    """Parameters and path arithmetic shared by the four tasks."""

    SHARED_RELATIVE_PATH = ""
    CONFIG_SECTION = DEFAULT_CONFIG_SECTION

    name = luigi.Parameter(
        description="file name (may contain sub-folders) below SHARED_RELATIVE_PATH"
    )

    # Why the last complete() raised, for explain_failures() after the run: by
    # then the store may answer differently (or the settings may have changed).
    completion_problem: str | None = None

    def complete(self) -> bool:
        self.completion_problem = None
        try:
            return super().complete()
        except TransferError as error:
            self.completion_problem = str(error)
            raise

    @property
    def relative_path(self) -> str:
        return join_relative(self.SHARED_RELATIVE_PATH, self.name)

    def _root(self, parameter: str) -> str:
        value = getattr(self, parameter) or luigi.configuration.get_config().get(
            self.CONFIG_SECTION, parameter, ""
        )
        if not value:
            raise TransferError(
                f"{type(self).__name__}: {parameter} is not set: pass "
                f"--{parameter.replace('_', '-')} or set [{self.CONFIG_SECTION}] {parameter} in "
                "luigi.cfg"
            )
        return value

    @property
    def remote_root_url(self) -> str:
        return self._root("remote_root")

    @property
    def local_root_path(self) -> str:
        root = parse_root(self._root("local_root"))
        if not isinstance(root, FolderRoot):
            raise TransferError(
                f"{type(self).__name__}: local_root must be a local folder, not an s3:// URL"
            )
        return root.path

    def remote_output(self):
        return remote_target(self.remote_root_url, self.relative_path)

    def local_output(self) -> SuffixPreservingLocalTarget:
        path = os.path.join(self.local_root_path, *self.relative_path.split("/"))
        return SuffixPreservingLocalTarget(path, format=luigi.format.Nop)


def _missing_message(task: luigi.Task, side: str) -> str:
    return (
        f"{task.output().path} does not exist: put the file there, or point the {side} root "
        f"(--{side}-root or {side}_root in luigi.cfg) at where it is"
    )


class RemoteFile(_RootedFile, luigi.ExternalTask):
    """A file that must already be on the remote root.

    ``<remote_root>/<SHARED_RELATIVE_PATH>/<name>``.
    """

    remote_root = luigi.Parameter(
        default="", description="s3://bucket/prefix, file:///dir or a folder"
    )

    def output(self):
        return self.remote_output()

    def missing_message(self) -> str:
        return _missing_message(self, "remote")


class LocalFile(_RootedFile, luigi.ExternalTask):
    """A file that must already be on the local disk.

    ``<local_root>/<SHARED_RELATIVE_PATH>/<name>``.
    """

    local_root = luigi.Parameter(default="", description="local folder")

    def output(self):
        return self.local_output()

    def missing_message(self) -> str:
        return _missing_message(self, "local")


class _Transfer(OneLineFailure, _RootedFile, luigi.Task):
    EXPECTED_ERRORS = (TransferError,)

    # The ExternalTask class this copy starts from; None: the generic RemoteFile /
    # LocalFile. A subclass names its own (e.g. ContentImage) so the graph says
    # what the file is; it must share SHARED_RELATIVE_PATH.
    SOURCE: type[_RootedFile] | None = None

    remote_root = luigi.Parameter(
        default="", description="s3://bucket/prefix, file:///dir or a folder"
    )
    local_root = luigi.Parameter(default="", description="local folder")

    def _source(self, generic: type[_RootedFile], **root: str) -> luigi.Task:
        if self.SOURCE is None:
            return generic(name=self.relative_path, **root)
        if self.SOURCE.SHARED_RELATIVE_PATH != self.SHARED_RELATIVE_PATH:
            raise TypeError(f"{type(self).__name__}.SOURCE must share its SHARED_RELATIVE_PATH")
        return self.SOURCE(name=self.name, **root)


class Download(_Transfer):
    """Copy a remote file to ``<local_root>/<SHARED_RELATIVE_PATH>/<name>``, atomically and
    verified."""

    def requires(self):
        return self._source(RemoteFile, remote_root=self.remote_root_url)

    def output(self) -> SuffixPreservingLocalTarget:
        return self.local_output()

    def run(self) -> None:
        source = self.input()
        progress = TaskProgress(self, "downloading", source.path)
        check = download(source, self.output(), progress)
        progress.note(f"done, {check} verified")


class Upload(_Transfer):
    """Copy a local file to the remote root; complete as soon as the remote has the file."""

    def requires(self):
        return self._source(LocalFile, local_root=self.local_root_path)

    def output(self):
        return self.remote_output()

    def run(self) -> None:
        destination = self.output()
        progress = TaskProgress(self, "uploading", destination.path)
        check = upload(self.input(), destination, progress)
        progress.note(f"done, {check} verified")


@RemoteFile.event_handler(luigi.Event.DEPENDENCY_MISSING)
@LocalFile.event_handler(luigi.Event.DEPENDENCY_MISSING)
def _log_missing_file(task) -> None:
    # luigi's own line only says "Data for RemoteFile(...) does not exist (yet?)".
    logger.error(explain_task(task))

