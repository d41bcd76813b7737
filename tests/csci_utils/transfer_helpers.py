"""Helpers shared by the transfer task tests: the two kinds of remote root, and a
Luigi run whose scheduler the test can question afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import luigi
import luigi.interface
import luigi.scheduler

from csci_utils.luigi import Download, LocalFile, RemoteFile, Upload

MiB = 1024 * 1024


class DownloadImage(Download):
    SHARED_RELATIVE_PATH = "images"


class UploadImage(Upload):
    SHARED_RELATIVE_PATH = "images"


class LocalImage(LocalFile):
    SHARED_RELATIVE_PATH = "images"


class RemoteImage(RemoteFile):
    SHARED_RELATIVE_PATH = "images"


class S3Store:
    """An s3:// root on the moto server; arranges and inspects objects with plain boto3."""

    kind = "s3"

    def __init__(self, server) -> None:
        self.client = server.client()
        self.bucket = server.create_bucket()
        self.root = f"s3://{self.bucket}/shared"

    def key(self, relative: str) -> str:
        return f"shared/{relative}"

    def url(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def put(self, relative: str, data: bytes, metadata: dict | None = None) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(relative), Body=data, Metadata=metadata or {}
        )

    def get(self, relative: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(relative))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def head(self, relative: str) -> dict:
        return self.client.head_object(Bucket=self.bucket, Key=self.key(relative))


class FolderStore:
    """A local-folder root, the embedded default."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = str(folder)

    def url(self, relative: str) -> str:
        return str(self.folder / relative)

    def put(self, relative: str, data: bytes, metadata: dict | None = None) -> None:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, relative: str) -> bytes | None:
        path = self.folder / relative
        return path.read_bytes() if path.exists() else None


class SchedulerKeepingFactory(luigi.interface._WorkerSchedulerFactory):
    """Runs with the local scheduler and keeps it, to read progress and messages after."""

    def __init__(self) -> None:
        self.scheduler = luigi.scheduler.Scheduler()

    def create_local_scheduler(self):
        return self.scheduler

    def progress(self, task) -> tuple[int | None, str | None]:
        percent = self.scheduler.get_task_progress_percentage(task.task_id)["progressPercentage"]
        message = self.scheduler.get_task_status_message(task.task_id)["statusMessage"]
        return percent, message


def build(*tasks, factory=None, workers: int = 1):
    return luigi.build(
        list(tasks), local_scheduler=True, detailed_summary=True, log_level="WARNING",
        worker_scheduler_factory=factory, workers=workers,
    )


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder``, relative: shows stray temp files as well as outputs."""
    if not folder.exists():
        return []
    return sorted(
        os.path.relpath(os.path.join(directory, name), folder)
        for directory, _, names in os.walk(folder) for name in names
    )
