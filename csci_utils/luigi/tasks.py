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

from ..write_errors import WriteError
from .errors import TransferError
from .failure import OneLineFailure
from .folder_files import FolderFileTarget
from .progress import TaskProgress
from .roots import FolderRoot, identity_key, join_relative, parse_root, remote_target, root_key
from .run_report import explain_task
from .transfer import download, resolved, upload

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

    def local_output(self) -> FolderFileTarget:
        root = self.local_root_path
        path = os.path.join(root, *self.relative_path.split("/"))
        return FolderFileTarget(path, root=root, format=luigi.format.Nop)


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

    def complete(self) -> bool:
        # A file resolved (looked up) for this batch exists: no second request.
        if resolved(self.remote_output().path) is not None:
            return True
        return super().complete()

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


def copy_progress(reporter, verb: str, url: str) -> TaskProgress:
    """The progress of one copy to or from ``url``, reported on ``reporter``.

    An S3 copy gets the stall watchdog, which quotes when the request gives up. A
    folder copy is the kernel's, with no endpoint to go silent, and no watchdog: its
    thread (one per copy, two copies per image) cost a batch of 500 small images
    about 2 s of thread starts and joins.
    """
    if not url.startswith("s3://"):
        return TaskProgress(reporter, verb, url, stall_s=None)
    from .s3_files import S3Timeouts  # lazy: boto3 only for S3 roots

    return TaskProgress(reporter, verb, url, gives_up_after=S3Timeouts().bound())


class _Transfer(OneLineFailure, _RootedFile, luigi.Task):
    EXPECTED_ERRORS = (TransferError, WriteError)

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
    """Copy a remote file to ``<local_root>/<SHARED_RELATIVE_PATH>/<name>``, atomically, verified.

    With ``identity`` (the remote file's ETag, or a folder file's version, from
    ``remote_stat(...).identity``) the copy is a cache entry keyed on what it is a
    copy of: ``<local_root>/<root_key(remote)>/<SHARED_RELATIVE_PATH>/<identity_key>/<name>``.
    Another remote, or new bytes under the same name, is another path, so the
    cache never serves a stale or foreign copy, and a copy it has is never
    downloaded twice. The run fails, keeping nothing, if the remote file no
    longer has that identity.
    """

    identity = luigi.Parameter(default="", description="the remote file's content identity (ETag); "
                               "empty: the plain <local_root>/<SHARED_RELATIVE_PATH>/<name>")

    def requires(self):
        return self._source(RemoteFile, remote_root=self.remote_root_url)

    def output(self) -> FolderFileTarget:
        return cached_copy(self.remote_root_url, self.local_root_path, self.SHARED_RELATIVE_PATH,
                           self.name, self.identity)

    def run(self) -> None:
        self.fetch(self)

    def fetch(self, reporter) -> FolderFileTarget:
        """Make sure this machine has the copy (the same copy ``run()`` makes); return it.

        For a task that needs the file on the machine it runs on (its output is
        remote, so luigid may give it to any worker): it calls this inside its
        own ``run()``, and the copy's progress is reported on ``reporter``.
        """
        return fetch_copy(self.remote_root_url, self.local_root_path, self.SHARED_RELATIVE_PATH,
                          self.name, self.identity, reporter)


def cached_copy(remote_root: str, local_root: str, shared: str, name: str,
                identity: str = "") -> FolderFileTarget:
    """This machine's copy of ``<remote_root>/<shared>/<name>`` (Download's output).

    With ``identity``: ``<local_root>/<root_key>/<shared>/<identity_key>/<name>``;
    without: the plain ``<local_root>/<shared>/<name>``.
    """
    relative = join_relative(shared, name)
    if not identity:
        parts = relative.split("/")
    else:
        parts = [root_key(remote_root), *shared.split("/"), identity_key(identity),
                 *name.split("/")]
    return FolderFileTarget(os.path.join(local_root, *parts), root=local_root,
                            format=luigi.format.Nop)


def fetch_copy(remote_root: str, local_root: str, shared: str, name: str, identity: str,
               reporter) -> FolderFileTarget:
    """``cached_copy(...)``, downloaded (verified, pinned to ``identity``) unless already here.

    ``reporter`` (a luigi task, or anything with set_status_message and
    set_progress_percentage) hears the copy's progress.
    """
    output = cached_copy(remote_root, local_root, shared, name, identity)
    if output.exists():
        return output
    source = remote_target(remote_root, join_relative(shared, name))
    with copy_progress(reporter, "downloading", source.path) as progress:
        check = download(source, output, progress, identity=identity or None)
    progress.note(f"done, {check} verified")
    return output


class Upload(_Transfer):
    """Copy a local file to the remote root; complete as soon as the remote has the file."""

    def requires(self):
        return self._source(LocalFile, local_root=self.local_root_path)

    def output(self):
        return self.remote_output()

    def run(self) -> None:
        upload_copy(self.input(), self.output(), self)


class Published(_RootedFile):
    """Mixin: a task whose result lives on the remote (<remote_root>/<SHARED_RELATIVE_PATH>/<name>).

    The task is done when the remote has the file, whichever machine made it, so
    luigid may hand it to any worker. ``run()`` calls ``self.publish(make)``:
    ``make(path)`` writes the result to a temporary path of this machine's
    cache copy (``<local_root>/<root_key>/<SHARED_RELATIVE_PATH>/<name>``), which
    ``upload`` (the Upload task's mechanism) then pushes and verifies. A failed
    upload leaves no object; the cache copy stays, so a rerun only uploads.
    """

    remote_root = luigi.Parameter(
        default="", description="s3://bucket/prefix, file:///dir or a folder"
    )
    local_root = luigi.Parameter(default="", description="local folder for this machine's copies")

    def output(self):
        return self.remote_output()

    def cache_output(self) -> FolderFileTarget:
        return published_copy(self.remote_root_url, self.local_root_path, self.relative_path)

    def publish(self, make) -> str:
        """Make the result here (unless this machine has its copy), upload it; return the check."""
        return publish_file(self.cache_output(), self.output(), make, self)

    def on_failure(self, exception: BaseException) -> str:
        if isinstance(exception, (TransferError, WriteError)):
            return str(exception)
        return super().on_failure(exception)


def published_copy(remote_root: str, local_root: str, relative_path: str) -> FolderFileTarget:
    """This machine's copy of a published result: ``<local_root>/<root_key>/<relative_path>``."""
    path = os.path.join(local_root, root_key(remote_root), *relative_path.split("/"))
    return FolderFileTarget(path, root=local_root, format=luigi.format.Nop)


def publish_file(local, destination, make, reporter) -> str:
    """Published.publish for any caller: ``make(temporary)`` writes ``local`` atomically
    (unless it exists), then it is uploaded to ``destination`` and verified; return the check.

    A failed upload leaves no object; ``local`` stays, so a rerun only uploads.
    """
    make_copy(local, make)
    return upload_copy(local, destination, reporter)


def make_copy(local, make) -> None:
    """``make(temporary)`` writes ``local`` atomically, unless this machine has it already."""
    if not local.exists():
        with local.temporary_path() as temporary:
            make(temporary)


def upload_copy(local, destination, reporter) -> str:
    """Upload this machine's copy to the remote (``upload``, verified); return the check."""
    with copy_progress(reporter, "uploading", destination.path) as progress:
        check = upload(local, destination, progress)
    progress.note(f"done, {check} verified")
    return check


@RemoteFile.event_handler(luigi.Event.DEPENDENCY_MISSING)
@LocalFile.event_handler(luigi.Event.DEPENDENCY_MISSING)
def _log_missing_file(task) -> None:
    # luigi's own line only says "Data for RemoteFile(...) does not exist (yet?)".
    logger.error(explain_task(task))

