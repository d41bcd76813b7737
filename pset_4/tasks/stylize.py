"""Stylize images: in-process (option B) or through ``python -m neural_style eval`` (option A).

Both options share parameters, inputs and the output path, and write through
SuffixPreservingLocalTarget.temporary_path(), so a run killed mid-way never leaves
a file at the final path. The output path encodes the image, the model, the style
and the content scale (see pset_4.names): change one and the task runs again.
"""

from __future__ import annotations

import logging
import posixpath
import sys

import luigi
from luigi.contrib.external_program import ExternalProgramRunError

from csci_utils.luigi import Published, TransferError, download
from csci_utils.luigi.external_program import StoppableExternalProgramTask
from csci_utils.luigi.target import ResultFileTarget

from ..config import SECTION, SettingParameter
from ..contact_sheet import make_contact_sheet
from ..errors import PipelineError
from ..model_cache import cached_model
from ..names import (
    ImageNameParameter,
    ModelNameParameter,
    StylePictureNameParameter,
    contact_sheet_relative_path,
    controls_key,
    stylized_relative_path,
)
from ..progress import image_failed, image_stylized
from .data import (
    STYLIZED,
    ContentImage,
    DownloadImage,
    DownloadModel,
    DownloadStyle,
    SavedModel,
    StylePicture,
)

# Task families are "pset_4.DownloadImage" etc.: Luigi looks tasks up by family
# (dynamic dependencies, luigid, the `luigi` CLI), and a bare "UploadImage"
# would clash with any other project's task of that name.
luigi.namespace("pset_4", scope=__name__)

logger = logging.getLogger("pset_4")

OPTIONS = ("A", "B")
STYLE_IMAGE_ENGINE = "onnx"  # both options alike, so that they write the same bytes


class StyleParameter(luigi.OptionalParameter):
    """A style index or blend (``3:0.5,12:0.5``), kept in its normalised form so
    that ``3:1`` and ``3`` are one task; a bad spec is kept as given and fails
    the task with neural_style's one-line message."""

    expected_type = (int, str)

    def normalize(self, value):
        from neural_style import NeuralStyleError
        from neural_style.controls import parse_style

        if value is None or value == "":
            return None
        try:
            blend = parse_style(value)
        except NeuralStyleError:
            return str(value)
        return blend.first if len(blend.weights) == 1 else str(blend)


class _OnTheRemote(Published):
    """Results live on the remote under ``stylized/``; this machine's copy under output_dir."""

    SHARED_RELATIVE_PATH = STYLIZED
    CONFIG_SECTION = SECTION
    name = None  # derived from the parameters (see relative_path), not a parameter

    @property
    def remote_root_url(self) -> str:
        return self.remote_root

    @property
    def local_root_path(self) -> str:
        return self.output_dir

    def _roots(self) -> dict:
        return {"remote_root": self.remote_root, "local_root": self.local_root}

    def cache_output(self) -> ResultFileTarget:
        # Only a non-empty regular file is a made result: an empty file, a folder or
        # a link at the cache path is made (and uploaded) again.
        return ResultFileTarget(super().cache_output().path, format=luigi.format.Nop)

    def _fetch(self, download_class, name: str, identity: str):
        """This machine's cached copy of an input, downloaded here if missing (Download.fetch)."""
        return download_class(name=name, identity=identity, **self._roots()).fetch(self)


class _StylizedImage(_OnTheRemote, luigi.Task):
    """What both options share: parameters, inputs and the output, on the remote.

    The output is ``<remote>/stylized/<image>/<model>--style-K--<digest>.png``, the
    digest over the content identities of image and model: done means on the
    remote, so luigid may hand the task to any worker; run() downloads its inputs
    into that machine's cache and uploads the result.
    """

    image = ImageNameParameter()
    image_identity = luigi.Parameter(default="", description="the image's ETag (or folder version)")
    model = ModelNameParameter()
    model_identity = luigi.Parameter(default="", description="the model's ETag (or folder version)")
    style = StyleParameter(default=None, description="style index or blend (3:0.5,12:0.5)")
    content_scale = luigi.OptionalFloatParameter(
        default=None, description="shrink the content image by this factor first"
    )
    strength = luigi.FloatParameter(default=1.0, description="0: the content, 1: the full style")
    preserve_color = luigi.BoolParameter(default=False, description="keep the content's colours")
    max_size = luigi.OptionalIntParameter(default=None, description="bound the longer side first")
    tile_size = luigi.OptionalIntParameter(default=None, description="stylize in tiles of N px")
    style_image = StylePictureNameParameter(
        default=None, description="a picture in <remote>/styles as the style"
    )
    style_image_identity = luigi.Parameter(
        default="", description="the style picture's ETag (or folder version)"
    )
    remote_root = SettingParameter("remote_root")
    local_root = SettingParameter("local_root")
    output_dir = SettingParameter("output_dir")
    image_results = 1  # one image result: the command line's progress counts it (pset_4.progress)

    @property
    def relative_path(self) -> str:
        controls = controls_key(self.strength, self.preserve_color, self.max_size,
                                self.tile_size, self.style_image)
        model, model_identity, style = self.model, self.model_identity, self.style
        if self.style_image:  # the bundled style-image network makes it, whatever -m says
            from neural_style.arbitrary import ARCHITECTURE, IDENTITY

            model, model_identity, style = ARCHITECTURE, IDENTITY, None
        return posixpath.join(
            STYLIZED,
            stylized_relative_path(
                self.image,
                model,
                style,
                self.content_scale,
                self.image_identity,
                model_identity,
                controls,
                self.style_image_identity if self.style_image else "",
            ),
        )

    def requires(self):
        remote_root = self.remote_root
        inputs = {"image": ContentImage(name=self.image, remote_root=remote_root)}
        if self.style_image:
            inputs["style_image"] = StylePicture(name=self.style_image, remote_root=remote_root)
        else:
            inputs["model"] = SavedModel(name=self.model, remote_root=remote_root)
        return inputs

    def controls(self):
        """The validated neural_style controls; a bad value fails the task in one line."""
        from neural_style.controls import Controls

        return Controls.of(self.style, self.strength, self.preserve_color, self.max_size,
                           self.tile_size)

    def _inputs(self) -> dict:
        """This machine's copies of the inputs (image, model, style picture), fetched here."""
        paths = {"image": self._fetch(DownloadImage, self.image, self.image_identity).path}
        if self.style_image:
            paths["style_image"] = self._fetch(
                DownloadStyle, self.style_image, self.style_image_identity
            ).path
        else:
            paths["model"] = self._fetch(DownloadModel, self.model, self.model_identity).path
        return paths

    def _describe(self) -> str:
        style = "" if self.style is None else f" style {self.style}"
        picture = f" picture {self.style_image}" if self.style_image else ""
        strength = "" if self.strength == 1 else f" strength {self.strength:g}"
        return f"{self.image} with {self.model}{style}{picture}{strength}"

    def _report(self, stage: str, percentage: int) -> None:
        """Progress for the scheduler (luigid's visualizer shows both) and the log."""
        message = f"{self._describe()}: {stage}"
        self.set_status_message(message)
        self.set_progress_percentage(percentage)
        logger.info("%s", message)

    def on_failure(self, exception: BaseException) -> str:
        # The scheduler (the CLI's error line, luigid's page) shows this, not a traceback.
        from neural_style import NeuralStyleError

        image_failed(self.image)
        if isinstance(exception, (PipelineError, NeuralStyleError, TransferError)):
            return str(exception)
        return super().on_failure(exception)


class Stylize(_StylizedImage):
    """Option B: stylize in this process; the model is loaded once per process (model_cache)."""

    def run(self):
        inputs = self._inputs()
        self.publish(lambda temporary: self._stylize(inputs, temporary))
        self._report(
            f"done, {'x'.join(map(str, _image_size(self.cache_output().path)))}, on the remote", 100
        )
        image_stylized(self.image)

    def _stylize(self, inputs: dict, temporary: str) -> None:
        import neural_style
        from neural_style.controls import stylize_with_controls

        controls = self.controls()
        self._report("loading the model", 0)
        content = neural_style.load_image(inputs["image"])
        if self.style_image:
            from neural_style.arbitrary import ArbitraryStyle

            model = ArbitraryStyle(inputs["style_image"], engine=STYLE_IMAGE_ENGINE)
        else:
            style = None if controls.style is None else controls.style.first
            model = cached_model(inputs["model"], style)
        self._report(f"stylizing {content.width}x{content.height}", 20)
        result = stylize_with_controls(content, model, controls, self.content_scale)
        self._report(f"saving {result.width}x{result.height}", 90)
        neural_style.save_image(result, temporary)
        self._report(f"saved {result.width}x{result.height}, uploading", 95)


class StylizeProgram(_StylizedImage, StoppableExternalProgramTask):
    """Option A: the same work in a child ``python -m neural_style eval`` process.

    The child writes the temporary path (which keeps the ``.png`` suffix) and the
    target moves it into place only when the child exited 0.
    """

    def program_args(self):
        inputs = self._paths
        args = [
            sys.executable, "-m", "neural_style", "eval",
            "--content-image", inputs["image"],
            "--output-image", self._temporary_output,
        ]
        if self.style_image:
            args += ["--style-image", inputs["style_image"], "--engine", STYLE_IMAGE_ENGINE]
        else:
            args += ["--model", inputs["model"]]
        if self.style is not None and not self.style_image:
            args += ["--style", str(self.style)]
        args += ["--strength", repr(self.strength)]
        if self.preserve_color:
            args += ["--preserve-color"]
        for flag, value in (("--max-size", self.max_size), ("--tile-size", self.tile_size)):
            if value is not None:
                args += [flag, str(value)]
        if self.content_scale is not None:
            args += ["--content-scale", repr(self.content_scale)]
        from neural_style import threads

        if threads.configured():  # a forked worker's share of the cores
            args += ["--threads", str(threads.configured())]
        return args

    def run(self):
        self._paths = self._inputs()
        self.publish(self._stylize)
        self._report(
            f"done, {'x'.join(map(str, _image_size(self.cache_output().path)))}, on the remote", 100
        )
        image_stylized(self.image)

    def _stylize(self, temporary: str) -> None:
        size = "x".join(map(str, _image_size(self._paths["image"])))
        self._report(f"stylizing {size} in a neural_style process", 0)
        self._temporary_output = temporary
        try:
            StoppableExternalProgramTask.run(self)  # the child stops with this process
        except ExternalProgramRunError as error:
            lines = (error.err or "").strip().splitlines()
            # The child's own one line, without its "neural_style: error: " prefix.
            reason = lines[-1].split(" error: ", 1)[-1] if lines else "it exited non-zero"
            raise PipelineError(
                f"neural_style eval failed on {self._describe()}: {reason}"
            ) from None
        self._report(f"stylized {size}, uploading", 95)


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only
        return image.size


TASK_FOR_OPTION = {"A": StylizeProgram, "B": Stylize}


def _label(task: _StylizedImage) -> str:
    """A contact-sheet label: what makes this result differ from its neighbours."""
    words = [task.style_image or task.model]
    if task.style is not None and not task.style_image:
        words.append(f"style {task.style}")
    if task.strength != 1:
        words.append(f"x{task.strength:g}")
    return " ".join(words)


class _Batch:
    """Parameters and the task grid shared by StylizeAll and ContactSheet."""

    models = luigi.ListParameter()
    # "image:<name>" / "model:<name>" / "style:<picture>" -> content identity (ETag),
    # resolved once by the CLI.
    identities = luigi.DictParameter(
        default={}, description="content identity of each image, model and style picture"
    )
    styles = luigi.ListParameter(
        default=[None], description="style indices; [null] for the model's default"
    )
    option = luigi.ChoiceParameter(choices=OPTIONS, default="B")
    content_scale = luigi.OptionalFloatParameter(default=None)
    remote_root = SettingParameter("remote_root")
    local_root = SettingParameter("local_root")
    output_dir = SettingParameter("output_dir")
    strengths = luigi.ListParameter(default=[1.0], description="one result per strength (a ramp)")
    preserve_color = luigi.BoolParameter(default=False)
    max_size = luigi.OptionalIntParameter(default=None)
    tile_size = luigi.OptionalIntParameter(default=None)
    style_image = StylePictureNameParameter(default=None)

    def _controls(self) -> dict:
        return {"preserve_color": self.preserve_color, "max_size": self.max_size,
                "tile_size": self.tile_size, "style_image": self.style_image}

    def _stylize_tasks(self, image: str):
        task_class = TASK_FOR_OPTION[self.option]
        return [
            task_class(
                image=image,
                image_identity=self.identities.get(f"image:{image}", ""),
                model=model,
                model_identity=self.identities.get(f"model:{model}", ""),
                style=style,
                content_scale=self.content_scale,
                strength=strength,
                **self._controls(),
                style_image_identity=self.identities.get(f"style:{self.style_image}", "")
                if self.style_image else "",
                remote_root=self.remote_root,
                local_root=self.local_root,
                output_dir=self.output_dir,
            )
            for model in self.models
            for style in self.styles
            for strength in self.strengths
        ]


class StylizeAll(_Batch, luigi.WrapperTask):
    """Every image x every model x every style, in one build."""

    images = luigi.ListParameter()

    def requires(self):
        return [task for image in self.images for task in self._stylize_tasks(image)]


class ContactSheet(_Batch, _OnTheRemote, luigi.Task):
    """A PNG grid of one content image and its stylized versions, on the remote next to them."""

    image = ImageNameParameter()

    @property
    def relative_path(self) -> str:
        shown = {key: value for key, value in self.identities.items()
                 if key == f"image:{self.image}" or key.startswith("model:")
                 or (self.style_image and key == f"style:{self.style_image}")}
        controls = {**self._controls(), "strengths": list(self.strengths)}
        if controls == {"preserve_color": False, "max_size": None, "tile_size": None,
                        "style_image": None, "strengths": [1.0]}:
            controls = None  # the defaults keep the sheet's earlier name
        return posixpath.join(STYLIZED, contact_sheet_relative_path(
            self.image, self.models, self.styles, self.content_scale, shown, controls,
        ))

    def requires(self):
        return {
            "content": ContentImage(name=self.image, remote_root=self.remote_root),
            "results": self._stylize_tasks(self.image),
        }

    def run(self):
        import neural_style

        content_path = self._fetch(
            DownloadImage, self.image, self.identities.get(f"image:{self.image}", "")
        )
        results = []
        for task in self.requires()["results"]:
            local = task.cache_output()
            if not local.exists():  # made by another machine: fetch this machine's copy
                download(task.output(), local)
            results.append((_label(task), neural_style.load_image(local.path)))
        sheet = make_contact_sheet(neural_style.load_image(content_path.path), results)
        self.publish(lambda temporary: neural_style.save_image(sheet, temporary))
