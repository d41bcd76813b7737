"""Luigi building blocks: atomic local targets, remote roots and verified transfers.

A remote root is a URL: ``s3://bucket/prefix`` (any S3-compatible endpoint via
luigi.cfg ``[s3] endpoint_url`` or ``AWS_ENDPOINT_URL_S3``) or a local folder /
``file://`` URL, the embedded default. See docs/remote.md.

The names below are imported on first use: a program that needs only the
atomic target (the dependency audit) neither loads the transfer stack nor
registers the transfer tasks with luigi's command line.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "TransferError": "errors",
    "FolderRoot": "roots",
    "S3Root": "roots",
    "parse_root": "roots",
    "remote_target": "roots",
    "all_listed": "listing",
    "forget_listings": "listing",
    "fresh_listings": "listing",
    "list_remote": "listing",
    "listed": "listing",
    "note_listed": "listing",
    "BatchProgress": "progress",
    "explain_failures": "run_report",
    "explain_task": "run_report",
    "SuffixPreservingLocalTarget": "target",
    "Download": "tasks",
    "cached_copy": "tasks",
    "make_copy": "tasks",
    "upload_copy": "tasks",
    "fetch_copy": "tasks",
    "publish_file": "tasks",
    "published_copy": "tasks",
    "LocalFile": "tasks",
    "Published": "tasks",
    "RemoteFile": "tasks",
    "Upload": "tasks",
    "download": "transfer",
    "remember": "transfer",
    "remote_stat": "transfer",
    "resolve": "transfer",
    "upload": "transfer",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
