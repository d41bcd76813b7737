"""A file's identity: the sha256 of its bytes (torch-free, unlike checkpoint.py)."""

from __future__ import annotations

import hashlib


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
