"""The ``[pset_4]`` section of luigi.cfg, with the embedded-store defaults."""

from __future__ import annotations

import luigi.configuration

SECTION = "pset_4"
DEFAULTS = {
    # The embedded store: a local folder that plays the part of the S3 bucket.
    "remote_root": "data/remote/pset_4",
    # Local cache of downloaded images and models.
    "local_root": "data",
    "output_dir": "data/stylized",
}


def setting(key: str, given: str = "") -> str:
    """``given`` if non-empty, else luigi.cfg ``[pset_4] key``, else the built-in default."""
    if given:
        return given
    return luigi.configuration.get_config().get(SECTION, key, DEFAULTS[key])


def is_s3(root: str) -> bool:
    return root.startswith("s3://")
