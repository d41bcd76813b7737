"""The pipeline's settings: one luigi.Config, read from luigi.cfg ``[pset_4]``."""

from __future__ import annotations

import luigi

SECTION = "pset_4"


class Settings(luigi.Config):
    """``[pset_4]`` in luigi.cfg; each option's default is the embedded store's."""

    @classmethod
    def get_task_family(cls) -> str:
        return SECTION  # luigi reads a Config's options from the section named like its family

    remote_root = luigi.Parameter(
        default="data/remote/pset_4",
        description="where images and models live: s3://bucket/prefix, or a folder (the "
        "embedded store, a local folder that plays the part of the S3 bucket)")
    local_root = luigi.Parameter(default="data", description="local cache of downloaded "
                                 "images and models")
    output_dir = luigi.Parameter(default="data/stylized", description="where results go")
    max_shards = luigi.IntParameter(
        default=64, description="a batch is cut into about this many shards (scheduling units "
        "of several images): luigi's scheduler costs O(tasks) per call, luigid a round trip "
        "per task; every machine sharing a batch must use the same number")


class SettingParameter(luigi.Parameter):
    """A task parameter that defaults from Settings: empty means luigi.cfg's (or the default)."""

    def __init__(self, setting: str, **kwargs) -> None:
        super().__init__(default="", description=Settings.__dict__[setting].description, **kwargs)
        self.setting = setting

    def normalize(self, x):
        return x or getattr(Settings(), self.setting)


class RootSettings:
    """Mixin: remote_root and local_root default from Settings."""

    remote_root = SettingParameter("remote_root")
    local_root = SettingParameter("local_root")


def is_s3(root: str) -> bool:
    return root.startswith("s3://")
