"""Stylize images: in-process (option B) or through ``python -m neural_style eval`` (option A).

Both options share parameters, inputs and the output path, and write through
SuffixPreservingLocalTarget.temporary_path(), so a run killed mid-way never leaves
a file at the final path. The output path encodes the image, the model, the style
and the content scale (see pset_4.names): change one and the task runs again.
"""

from __future__ import annotations

import logging
import os
import sys

import luigi
from luigi.contrib.external_program import ExternalProgramRunError, ExternalProgramTask
from luigi.format import Nop

from csci_utils.luigi.failure import OneLineFailure
from csci_utils.luigi.target import ResultFileTarget

from ..config import RootSettings, SettingParameter
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
from .data import DownloadImage, DownloadModel, DownloadStyle

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


class _Settings(RootSettings):
    """Mixin: where inputs come from and results go, defaulting from pset_4.config.Settings."""

    output_dir = SettingParameter("output_dir")

    def _roots(self) -> dict:
        return {"remote_root": self.remote_root, "local_root": self.local_root}


class _StylizedImage(OneLineFailure, _Settings, luigi.Task):
    """What both options share: parameters, inputs and the output path."""

    image = ImageNameParameter()
    model = ModelNameParameter()
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

    def requires(self):
        roots = self._roots()
        inputs = {
            "image": DownloadImage(name=self.image, **roots),
            "model": DownloadModel(name=self.model, **roots),
        }
        if self.style_image:
            inputs["style_image"] = DownloadStyle(name=self.style_image, **roots)
        return inputs

    def controls(self):
        """The validated neural_style controls; a bad value fails the task in one line."""
        from neural_style.controls import Controls

        return Controls.of(self.style, self.strength, self.preserve_color, self.max_size,
                           self.tile_size)

    def output(self):
        controls = controls_key(self.strength, self.preserve_color, self.max_size,
                                self.tile_size, self.style_image)
        relative = stylized_relative_path(self.image, self.model, self.style, self.content_scale,
                                          controls)
        return ResultFileTarget(os.path.join(self.output_dir, relative), format=Nop)

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

    def expected_errors(self) -> tuple[type[BaseException], ...]:
        from neural_style import NeuralStyleError  # lazy: importing neural_style loads torch

        return (PipelineError, NeuralStyleError)


class Stylize(_StylizedImage):
    """Option B: stylize in this process; the model is loaded once per process (model_cache)."""

    def run(self):
        import neural_style
        from neural_style.controls import engine_for, stylize_with_controls

        inputs, controls = self.input(), self.controls()
        self._report("loading the model", 0)
        content = neural_style.load_image(inputs["image"].path)
        if self.style_image:
            from neural_style.arbitrary import ArbitraryStyle

            model = ArbitraryStyle(inputs["style_image"].path, engine=STYLE_IMAGE_ENGINE)
        else:
            style = None if controls.style is None else controls.style.first
            model = cached_model(inputs["model"].path, style)
            engine = engine_for(controls, content.size, self.content_scale, "auto")
            if engine == "torch" and getattr(model, "engine", "torch") != "torch":
                model = neural_style.load_model(inputs["model"].path, style, engine="torch")
        self._report(f"stylizing {content.width}x{content.height}", 20)
        result = stylize_with_controls(content, model, controls, self.content_scale)
        self._report(f"saving {result.width}x{result.height}", 90)
        with self.output().temporary_path() as temporary:
            neural_style.save_image(result, temporary)
        self._report(f"done, {result.width}x{result.height}", 100)


class StylizeProgram(_StylizedImage, ExternalProgramTask):
    """Option A: the same work in a child ``python -m neural_style eval`` process.

    The child writes the temporary path (which keeps the ``.png`` suffix) and the
    target moves it into place only when the child exited 0.
    """

    def program_args(self):
        inputs = self.input()
        args = [
            sys.executable, "-m", "neural_style", "eval",
            "--content-image", inputs["image"].path,
            "--output-image", self._temporary_output,
        ]
        if self.style_image:
            args += ["--style-image", inputs["style_image"].path, "--engine", STYLE_IMAGE_ENGINE]
        else:
            args += ["--model", inputs["model"].path]
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
        size = "x".join(map(str, _image_size(self.input()["image"].path)))
        self._report(f"stylizing {size} in a neural_style process", 0)
        with self.output().temporary_path() as temporary:
            self._temporary_output = temporary
            try:
                super().run()
            except ExternalProgramRunError as error:
                lines = (error.err or "").strip().splitlines()
                # The child's own one line, without its "neural_style: error: " prefix.
                reason = lines[-1].split(" error: ", 1)[-1] if lines else "it exited non-zero"
                raise PipelineError(
                    f"neural_style eval failed on {self._describe()}: {reason}"
                ) from None
        self._report(f"done, {size}", 100)


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


class _Batch(_Settings):
    """Parameters and the task grid shared by StylizeAll and ContactSheet."""

    models = luigi.ListParameter()
    styles = luigi.ListParameter(
        default=[None], description="style indices; [null] for the model's default"
    )
    option = luigi.ChoiceParameter(choices=OPTIONS, default="B")
    content_scale = luigi.OptionalFloatParameter(default=None)
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
                model=model,
                style=style,
                content_scale=self.content_scale,
                strength=strength,
                **self._controls(),
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


class ContactSheet(_Batch, luigi.Task):
    """A PNG grid of one content image and its stylized versions."""

    image = ImageNameParameter()

    def requires(self):
        return {
            "content": DownloadImage(name=self.image, **self._roots()),
            "results": self._stylize_tasks(self.image),
        }

    def output(self):
        controls = {**self._controls(), "strengths": list(self.strengths)}
        if controls == {"preserve_color": False, "max_size": None, "tile_size": None,
                        "style_image": None, "strengths": [1.0]}:
            controls = None  # the defaults keep the sheet's earlier name
        relative = contact_sheet_relative_path(
            self.image, self.models, self.styles, self.content_scale, controls
        )
        return ResultFileTarget(os.path.join(self.output_dir, relative), format=Nop)

    def run(self):
        import neural_style

        content = neural_style.load_image(self.input()["content"].path)
        results = [
            (_label(task), neural_style.load_image(target.path))
            for task, target in zip(self.requires()["results"], self.input()["results"])
        ]
        sheet = make_contact_sheet(content, results)
        with self.output().temporary_path() as temporary:
            neural_style.save_image(sheet, temporary)
