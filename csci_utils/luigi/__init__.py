"""Luigi building blocks: atomic local targets, remote roots and verified transfers.

A remote root is a URL: ``s3://bucket/prefix`` (any S3-compatible endpoint via
luigi.cfg ``[s3] endpoint_url`` or ``AWS_ENDPOINT_URL_S3``) or a local folder /
``file://`` URL, the embedded default. See docs/remote.md.
"""

from .errors import TransferError
from .roots import FolderRoot, S3Root, parse_root, remote_target
from .run_report import explain_failures, explain_task
from .target import SuffixPreservingLocalTarget
from .tasks import Download, LocalFile, RemoteFile, Upload
from .transfer import download, remote_stat, upload

__all__ = [
    "Download", "FolderRoot", "LocalFile", "RemoteFile", "S3Root", "SuffixPreservingLocalTarget",
    "TransferError", "Upload", "download", "explain_failures", "explain_task", "parse_root",
    "remote_stat", "remote_target", "upload",
]
