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
from csci_utils.luigi.target import SuffixPreservingLocalTarget

from ..config import RootSettings, SettingParameter
from ..contact_sheet import make_contact_sheet
from ..errors import PipelineError
from ..model_cache import cached_model
from ..names import (
    ImageNameParameter,
    ModelNameParameter,
    contact_sheet_relative_path,
    stylized_relative_path,
)
from .data import DownloadImage, DownloadModel

# Task families are "pset_4.DownloadImage" etc.: Luigi looks tasks up by family
# (dynamic dependencies, luigid, the `luigi` CLI), and a bare "UploadImage"
# would clash with any other project's task of that name.
luigi.namespace("pset_4", scope=__name__)

logger = logging.getLogger("pset_4")

OPTIONS = ("A", "B")


class _Settings(RootSettings):
    """Mixin: where inputs come from and results go, defaulting from pset_4.config.Settings."""

    output_dir = SettingParameter("output_dir")

    def _roots(self) -> dict:
        return {"remote_root": self.remote_root, "local_root": self.local_root}


class _StylizedImage(OneLineFailure, _Settings, luigi.Task):
    """What both options share: parameters, inputs and the output path."""

    image = ImageNameParameter()
    model = ModelNameParameter()
    style = luigi.OptionalIntParameter(
        default=None, description="style index for multi-style models"
    )
    content_scale = luigi.OptionalFloatParameter(
        default=None, description="shrink the content image by this factor first"
    )

    def requires(self):
        roots = self._roots()
        return {
            "image": DownloadImage(name=self.image, **roots),
            "model": DownloadModel(name=self.model, **roots),
        }

    def output(self):
        relative = stylized_relative_path(self.image, self.model, self.style, self.content_scale)
        return SuffixPreservingLocalTarget(os.path.join(self.output_dir, relative), format=Nop)

    def _describe(self) -> str:
        style = "" if self.style is None else f" style {self.style}"
        return f"{self.image} with {self.model}{style}"

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

        inputs = self.input()
        self._report("loading the model", 0)
        model = cached_model(inputs["model"].path, self.style)
        content = neural_style.load_image(inputs["image"].path)
        self._report(f"stylizing {content.width}x{content.height}", 20)
        result = neural_style.stylize(content, model, content_scale=self.content_scale)
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
            "--model", inputs["model"].path,
            "--output-image", self._temporary_output,
        ]
        if self.style is not None:
            args += ["--style", str(self.style)]
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


class _Batch(_Settings):
    """Parameters and the task grid shared by StylizeAll and ContactSheet."""

    models = luigi.ListParameter()
    styles = luigi.ListParameter(
        default=[None], description="style indices; [null] for the model's default"
    )
    option = luigi.ChoiceParameter(choices=OPTIONS, default="B")
    content_scale = luigi.OptionalFloatParameter(default=None)

    def _stylize_tasks(self, image: str):
        task_class = TASK_FOR_OPTION[self.option]
        return [
            task_class(
                image=image,
                model=model,
                style=style,
                content_scale=self.content_scale,
                remote_root=self.remote_root,
                local_root=self.local_root,
                output_dir=self.output_dir,
            )
            for model in self.models
            for style in self.styles
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
        relative = contact_sheet_relative_path(
            self.image, self.models, self.styles, self.content_scale
        )
        return SuffixPreservingLocalTarget(os.path.join(self.output_dir, relative), format=Nop)

    def run(self):
        import neural_style

        content = neural_style.load_image(self.input()["content"].path)
        results = [
            (task.model if task.style is None else f"{task.model} style {task.style}",
             neural_style.load_image(target.path))
            for task, target in zip(self.requires()["results"], self.input()["results"])
        ]
        sheet = make_contact_sheet(content, results)
        with self.output().temporary_path() as temporary:
            neural_style.save_image(sheet, temporary)
