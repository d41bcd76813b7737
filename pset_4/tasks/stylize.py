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
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import cached_property

import luigi
from luigi.contrib.external_program import ExternalProgramRunError

from csci_utils.luigi import (
    BatchProgress,
    Published,
    TransferError,
    all_listed,
    download,
    fetch_copy,
    listed,
    make_copy,
    note_listed,
    published_copy,
    remote_target,
    upload_copy,
)
from csci_utils.luigi.external_program import StoppableExternalProgramTask
from csci_utils.luigi.target import ResultFileTarget
from csci_utils.one_line import first_line

from ..config import SECTION, SettingParameter, Settings
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
from ..progress import image_failed, image_stylized, images_already_done
from .data import (
    IMAGES,
    SAVED_MODELS,
    STYLES,
    STYLIZED,
    ContentImage,
    SavedModel,
    StylePicture,
)

# Task families are "pset_4.DownloadImage" etc.: Luigi looks tasks up by family
# (dynamic dependencies, luigid, the `luigi` CLI), and a bare "UploadImage"
# would clash with any other project's task of that name.
luigi.namespace("pset_4", scope=__name__)

logger = logging.getLogger("pset_4")

OPTIONS = ("A", "B")
# A shard's copies run on helper threads beside the model work (downloads of the
# next inputs, saves and uploads of the last results); at most IN_FLIGHT results
# wait to be saved and uploaded, so memory stays flat.
IO_THREADS, IN_FLIGHT = 3, 4
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


@dataclass(frozen=True)
class StylizedResult:
    """One result: an image stylized one way, and where it lives.

    Plain data, not a luigi task: a shard makes thousands of these one at a time
    (a luigi task instance is cached for the whole process). The per-image tasks
    and the shards both do their work through it.
    """

    image: str
    model: str
    style: int | str | None = None
    image_identity: str = ""
    model_identity: str = ""
    content_scale: float | None = None
    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None
    tile_size: int | None = None
    style_image: str | None = None
    style_image_identity: str = ""
    remote_root: str = ""
    local_root: str = ""
    output_dir: str = ""

    @cached_property  # asked for several times per result (listing checks, paths)
    def name(self) -> str:
        """``<image>/<model>--style-K[...]--<digest>.png``, below ``<remote>/stylized``."""
        controls = controls_key(self.strength, self.preserve_color, self.max_size,
                                self.tile_size, self.style_image)
        model, model_identity, style = self.model, self.model_identity, self.style
        if self.style_image:  # the bundled style-image network makes it, whatever -m says
            from neural_style.arbitrary import ARCHITECTURE, IDENTITY

            model, model_identity, style = ARCHITECTURE, IDENTITY, None
        return stylized_relative_path(
            self.image, model, style, self.content_scale, self.image_identity,
            model_identity, controls, self.style_image_identity if self.style_image else "",
        )

    @property
    def relative_path(self) -> str:
        return posixpath.join(STYLIZED, self.name)

    def output(self):
        return remote_target(self.remote_root, self.relative_path)

    def cache_output(self) -> ResultFileTarget:
        # Only a non-empty regular file is a made result: an empty file, a folder or
        # a link at the cache path is made (and uploaded) again.
        copy = published_copy(self.remote_root, self.output_dir, self.relative_path)
        return ResultFileTarget(copy.path, format=luigi.format.Nop)

    def controls(self):
        """The validated neural_style controls; a bad value fails the result in one line."""
        from neural_style.controls import Controls

        return Controls.of(self.style, self.strength, self.preserve_color, self.max_size,
                           self.tile_size)

    def describe(self) -> str:
        style = "" if self.style is None else f" style {self.style}"
        picture = f" picture {self.style_image}" if self.style_image else ""
        strength = "" if self.strength == 1 else f" strength {self.strength:g}"
        return f"{self.image} with {self.model}{style}{picture}{strength}"

    def label(self) -> str:
        """A contact-sheet label: what makes this result differ from its neighbours."""
        words = [self.style_image or self.model]
        if self.style is not None and not self.style_image:
            words.append(f"style {self.style}")
        if self.strength != 1:
            words.append(f"x{self.strength:g}")
        return " ".join(words)

    def inputs(self, reporter) -> dict:
        """This machine's copies of the inputs (image, model, style picture), fetched here."""
        def fetch(folder: str, name: str, identity: str) -> str:
            return fetch_copy(self.remote_root, self.local_root, folder, name, identity,
                              reporter).path

        paths = {"image": fetch(IMAGES, self.image, self.image_identity)}
        if self.style_image:  # no model: the style picture's network makes the result
            paths["style_image"] = fetch(STYLES, self.style_image, self.style_image_identity)
        else:
            paths["model"] = fetch(SAVED_MODELS, self.model, self.model_identity)
        return paths


RESULT_FIELDS = tuple(field.name for field in fields(StylizedResult))


def stylized_image(result: StylizedResult, inputs: dict, report):
    """Option B's model work: the stylized image, made in this process (model_cache: the
    model is loaded once). ``report(stage, percentage)`` hears each step."""
    import neural_style
    from neural_style.controls import stylize_with_controls

    controls = result.controls()
    report("loading the model", 0)
    content = neural_style.load_image(inputs["image"])
    if result.style_image:
        from neural_style.arbitrary import ArbitraryStyle

        model = ArbitraryStyle(inputs["style_image"], engine=STYLE_IMAGE_ENGINE)
    else:
        style = None if controls.style is None else controls.style.first
        model = cached_model(inputs["model"], style)
    report(f"stylizing {content.width}x{content.height}", 20)
    return stylize_with_controls(content, model, controls, result.content_scale)


def stylize_in_process(result: StylizedResult, inputs: dict, temporary: str, report) -> None:
    """Option B's work: ``stylized_image``, saved at ``temporary``."""
    import neural_style

    stylized = stylized_image(result, inputs, report)
    report(f"saving {stylized.width}x{stylized.height}", 90)
    neural_style.save_image(stylized, temporary)
    report(f"saved {stylized.width}x{stylized.height}, uploading", 95)


def eval_command(result: StylizedResult, inputs: dict, temporary: str) -> list[str]:
    """Option A's child: ``python -m neural_style eval`` writing ``temporary``."""
    args = [
        sys.executable, "-m", "neural_style", "eval",
        "--content-image", inputs["image"],
        "--output-image", temporary,
    ]
    if result.style_image:
        args += ["--style-image", inputs["style_image"], "--engine", STYLE_IMAGE_ENGINE]
    else:
        args += ["--model", inputs["model"]]
    if result.style is not None and not result.style_image:
        args += ["--style", str(result.style)]
    args += ["--strength", repr(result.strength)]
    if result.preserve_color:
        args += ["--preserve-color"]
    for flag, value in (("--max-size", result.max_size), ("--tile-size", result.tile_size)):
        if value is not None:
            args += [flag, str(value)]
    if result.content_scale is not None:
        args += ["--content-scale", repr(result.content_scale)]
    from neural_style import threads

    if threads.configured():  # a forked worker's share of the cores
        args += ["--threads", str(threads.configured())]
    return args


class _RunsEval(StoppableExternalProgramTask):
    """Option A's mixin: each result is one ``python -m neural_style eval`` child, run by
    luigi's ExternalProgramTask (output captured, the child stopped with this process)."""

    _command: list[str] = []

    def program_args(self):
        return self._command

    def run_eval(self, result: StylizedResult, inputs: dict, temporary: str, report) -> None:
        size = "x".join(map(str, _image_size(inputs["image"])))
        report(f"stylizing {size} in a neural_style process", 0)
        self._command = eval_command(result, inputs, temporary)
        try:
            StoppableExternalProgramTask.run(self)  # the child stops with this process
        except ExternalProgramRunError as error:
            lines = (error.err or "").strip().splitlines()
            # The child's own one line, without its "neural_style: error: " prefix.
            reason = lines[-1].split(" error: ", 1)[-1] if lines else "it exited non-zero"
            # The child only knows the temporary name it was given; the user knows the result's.
            reason = reason.replace(temporary, result.cache_output().path)
            raise PipelineError(
                f"neural_style eval failed on {result.describe()}: {reason}"
            ) from None
        report(f"stylized {size}, uploading", 95)


def _expected_error(exception: BaseException) -> bool:
    from neural_style import NeuralStyleError

    return isinstance(exception, (PipelineError, NeuralStyleError, TransferError))


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

    def cache_output(self) -> ResultFileTarget:
        # Only a non-empty regular file is a made result (see StylizedResult.cache_output).
        return ResultFileTarget(super().cache_output().path, format=luigi.format.Nop)

    def on_failure(self, exception: BaseException) -> str:
        # The scheduler (the CLI's error line, luigid's page) shows this, not a traceback.
        if _expected_error(exception):
            return str(exception)
        return super().on_failure(exception)


class _StylizedImage(_OnTheRemote, luigi.Task):
    """One result as its own task: parameters, inputs and the output, on the remote.

    The output is ``<remote>/stylized/<image>/<model>--style-K--<digest>.png``, the
    digest over the content identities of image and model: done means on the
    remote, so luigid may hand the task to any worker; run() downloads its inputs
    into that machine's cache and uploads the result. (A batch runs its images in
    shards instead: StylizeAll.)
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

    def result(self) -> StylizedResult:
        return StylizedResult(**{name: getattr(self, name) for name in RESULT_FIELDS})

    @property
    def relative_path(self) -> str:
        return self.result().relative_path

    def requires(self):
        remote_root = self.remote_root
        inputs = {"image": ContentImage(name=self.image, remote_root=remote_root)}
        if self.style_image:
            inputs["style_image"] = StylePicture(name=self.style_image, remote_root=remote_root)
        else:
            inputs["model"] = SavedModel(name=self.model, remote_root=remote_root)
        return inputs

    def _report(self, stage: str, percentage: int) -> None:
        """Progress for the scheduler (luigid's visualizer shows both) and the log."""
        message = f"{self.result().describe()}: {stage}"
        self.set_status_message(message)
        self.set_progress_percentage(percentage)
        logger.info("%s", message)

    def _report_done(self) -> None:
        size = "x".join(map(str, _image_size(self.cache_output().path)))
        self._report(f"done, {size}, on the remote", 100)

    def on_failure(self, exception: BaseException) -> str:
        image_failed(self.image)  # the command line's count (pset_4.progress)
        return super().on_failure(exception)


class Stylize(_StylizedImage):
    """Option B: stylize in this process; the model is loaded once per process (model_cache)."""

    def run(self):
        result = self.result()
        inputs = result.inputs(self)
        self.publish(lambda temporary: stylize_in_process(result, inputs, temporary, self._report))
        self._report_done()
        image_stylized(self.image)


class StylizeProgram(_StylizedImage, _RunsEval):
    """Option A: the same work in a child ``python -m neural_style eval`` process.

    The child writes the temporary path (which keeps the ``.png`` suffix) and the
    target moves it into place only when the child exited 0.
    """

    def run(self):
        result = self.result()
        inputs = result.inputs(self)
        self.publish(lambda temporary: self.run_eval(result, inputs, temporary, self._report))
        self._report_done()
        image_stylized(self.image)


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only
        return image.size


TASK_FOR_OPTION = {"A": StylizeProgram, "B": Stylize}


def shard_size(images: int, max_shards: int) -> int:
    """Images per shard: as few shards as ``max_shards`` allows, at least one image each."""
    return max(1, -(-images // max(1, max_shards)))


class _Batch:
    """Parameters and the result grid shared by StylizeAll, the shards and ContactSheet."""

    models = luigi.ListParameter()
    # "image:<name>" / "model:<name>" / "style:<picture>" -> content identity (ETag),
    # resolved once by the CLI (from one listing of <remote>/images).
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

    SHARED = ("models", "styles", "option", "content_scale", "remote_root", "local_root",
              "output_dir", "strengths", "preserve_color", "max_size", "tile_size", "style_image")

    def _controls(self) -> dict:
        return {"preserve_color": self.preserve_color, "max_size": self.max_size,
                "tile_size": self.tile_size, "style_image": self.style_image}

    def _shared(self) -> dict:
        return {name: getattr(self, name) for name in self.SHARED}

    def _identities(self, images) -> dict:
        """The identities that the results of ``images`` are keyed on (and no others)."""
        # Looked up by key, not a pass over every identity: a batch's StylizeAll makes its
        # ~64 shards a few times over, and 8,000 images' identities each time added up.
        keys = [*(f"model:{model}" for model in self.models), f"style:{self.style_image}",
                *(f"image:{image}" for image in images)]
        return {key: self.identities[key] for key in keys if key in self.identities}

    def _results(self, image: str) -> list[StylizedResult]:
        return [
            StylizedResult(
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

    def _shard(self, images, counted: bool = True, **grid) -> luigi.Task:
        """The shard of ``images`` (by the whole grid, or the part of it in ``grid``)."""
        return SHARD_FOR_OPTION[self.option](
            images=list(images), identities=self._identities(images), counted=counted,
            **{**self._shared(), **grid}
        )


class StylizeShard(_Batch, luigi.Task):
    """Option B over a few images: one scheduling unit, each result still its own file.

    Done when a listing of ``<remote>/stylized`` (one per build, csci_utils.luigi.listed)
    has every result. run() makes the missing ones, one at a time: each is
    written atomically and uploaded before the next starts, so a killed run
    loses only the one in hand and a rerun makes only what is missing. A result
    that fails is skipped; the others are made, then the shard fails with one
    line naming the failed ones. luigid's visualizer shows the shard's
    percentage (results finished / results) and what it is doing now.
    """

    images = luigi.ListParameter(description="the content images of this shard")
    counted = luigi.BoolParameter(
        default=True, significant=False,
        description="report to the command line's count (pset_4.progress); a contact "
        "sheet's own shard does not: StylizeAll's shards count those results")

    @property
    def image_results(self) -> int:
        """How many results the command line's progress counts for this shard."""
        if not self.counted:
            return 0
        return len(self.images) * len(self.models) * len(self.styles) * len(self.strengths)

    def results(self) -> Iterator[StylizedResult]:
        for image in self.images:
            yield from self._results(image)

    def requires(self):
        if self.style_image:  # no model: the style picture's network makes the results
            return {"style_image": StylePicture(name=self.style_image,
                                                remote_root=self.remote_root)}
        return {"models": [SavedModel(name=model, remote_root=self.remote_root)
                           for model in self.models]}

    def output(self):
        return [result.output() for result in self.results()]

    def complete(self) -> bool:
        return all_listed(self.remote_root, STYLIZED, (result.name for result in self.results()),
                          asker=self.task_id)

    def run(self):
        done = listed(self.remote_root, STYLIZED)
        results = list(self.results())
        progress = BatchProgress(self, len(results))
        todo = []
        for result in results:
            if result.name in done:
                progress.file_done("skipped")
            else:
                todo.append(result)
        if self.counted and len(todo) < len(results):
            images_already_done(len(results) - len(todo))
        failures: list[str] = []  # appended to from the helper threads too

        def failed(result: StylizedResult, error: Exception) -> None:
            logger.info("%s failed", result.describe(), exc_info=error)
            failures.append(f"{result.describe()}: {first_line(str(error)) or repr(error)}")
            progress.file_done("failed")
            if self.counted:
                image_failed(result.image)

        def publish(result: StylizedResult, finish) -> None:
            """On a helper thread: ``finish`` (save, upload), then the result's counts. The
            task's thread stylizes meanwhile: each call here that waits (a progress
            report, a count) would make it wait too, for the helpers to hand back the GIL."""
            try:
                width, height = finish()
            except Exception as error:  # noqa: BLE001 - one bad image fails only itself
                failed(result, error)
                return
            note_listed(self.remote_root, STYLIZED, result.name)
            progress.file_done()
            if self.counted:
                image_stylized(result.image)
            _report(progress, result, f"done, {width}x{height}, on the remote")

        # Copies overlap the model work: a helper thread downloads the next input and
        # saves + uploads the last results (fsync-bound) while this one stylizes.
        with ThreadPoolExecutor(IO_THREADS, thread_name_prefix="shard-io") as copies:
            # The copies report to the shard's progress (a stalled one says so on luigid).
            fetched = [copies.submit(self._inputs, todo[0], progress)] if todo else []
            publishing: deque = deque()
            try:
                self._make_all(todo, progress, copies, fetched, publishing, failed, publish)
            except BaseException:  # a signal: start nothing more, the running copies finish
                for future in [*filter(None, fetched), *publishing]:
                    future.cancel()
                raise
        progress.finish()
        if failures:
            shown = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more"
                                               if len(failures) > 3 else "")
            raise PipelineError(f"{len(failures)} of {len(results)} results failed: {shown}")

    def _make_all(self, todo, progress, copies, fetched, publishing, failed, publish) -> None:
        """Stylize ``todo`` in order, each input fetched and each result published on
        ``copies`` (helper threads), at most IN_FLIGHT waiting."""
        for index, result in enumerate(todo):
            if index + 1 < len(todo):
                fetched.append(copies.submit(self._inputs, todo[index + 1], progress))
            try:
                finish = self._make(result, fetched[index].result(), progress)
            except Exception as error:  # noqa: BLE001 - one bad image fails only itself
                failed(result, error)
                continue
            finally:
                fetched[index] = None  # forget the paths: memory stays flat
            publishing.append(copies.submit(publish, result, finish))
            while publishing and (len(publishing) > IN_FLIGHT or publishing[0].done()):
                publishing.popleft().result()
        while publishing:
            publishing.popleft().result()

    @staticmethod
    def _inputs(result: StylizedResult, progress: BatchProgress) -> dict | None:
        """On a helper thread: this machine's inputs for ``result``; None when its copy is
        here already (made before, its upload failed: only the upload is left)."""
        if result.cache_output().exists():
            return None
        return result.inputs(progress)

    def _make(self, result: StylizedResult, inputs: dict | None, progress: BatchProgress):
        """The model work for ``result``, here; returns what is left (save, upload) for the
        helper thread, which answers the result's (width, height)."""
        def report(stage: str, _percentage: int) -> None:
            _report(progress, result, stage)

        local, remote = result.cache_output(), result.output()
        if inputs is None:  # made here before, its upload failed: only upload
            return lambda: _uploaded(local, remote, progress)
        stylized = stylized_image(result, inputs, report)

        def finish() -> tuple[int, int]:
            import neural_style

            make_copy(local, lambda temporary: neural_style.save_image(stylized, temporary))
            upload_copy(local, remote, progress)
            return stylized.size
        return finish

    def on_failure(self, exception: BaseException) -> str:
        if _expected_error(exception):
            return str(exception)
        return super().on_failure(exception)


class StylizeProgramShard(StylizeShard, _RunsEval):
    """Option A over a few images: one ``python -m neural_style eval`` child per result."""

    def _make(self, result: StylizedResult, inputs: dict | None, progress: BatchProgress):
        def report(stage: str, _percentage: int) -> None:
            _report(progress, result, stage)

        local, remote = result.cache_output(), result.output()
        if inputs is not None:  # None: made here before, only the upload is left
            make_copy(local, lambda temporary: self.run_eval(result, inputs, temporary, report))
        return lambda: _uploaded(local, remote, progress)


def _uploaded(local, remote, progress: BatchProgress) -> tuple[int, int]:
    """Upload this machine's copy of a result; its (width, height)."""
    upload_copy(local, remote, progress)
    return _image_size(local.path)


def _report(progress: BatchProgress, result: StylizedResult, stage: str) -> None:
    message = f"{result.describe()}: {stage}"
    progress.set_status_message(message)
    logger.info("%s", message)


SHARD_FOR_OPTION = {"A": StylizeProgramShard, "B": StylizeShard}


class StylizeAll(_Batch, luigi.WrapperTask):
    """Every image x every model x every style, in about ``max_shards`` shards
    (luigi.cfg ``[pset_4] max_shards``, 64).

    A shard is a run of images with one (model, style, strength): 8,000 images
    and one style are 64 shards of 125; one image and six styles, six shards of one.
    """

    images = luigi.ListParameter()
    max_shards = luigi.IntParameter(default=0, description="scheduling units, about "
                                    "(0: [pset_4] max_shards)")

    def requires(self):
        grids = [{"models": [model], "styles": [style], "strengths": [strength]}
                 for model in self.models for style in self.styles for strength in self.strengths]
        shards = self.max_shards or Settings().max_shards
        size = shard_size(len(self.images), shards // len(grids))
        return [self._shard(self.images[start:start + size], **grid)
                for start in range(0, len(self.images), size) for grid in grids]

    def results(self) -> Iterator[StylizedResult]:
        for image in self.images:
            yield from self._results(image)


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
            "results": self._shard([self.image], counted=False),
        }

    def run(self):
        import neural_style

        content_path = fetch_copy(self.remote_root, self.local_root, IMAGES, self.image,
                                  self.identities.get(f"image:{self.image}", ""), self)
        results = []
        for result in self._results(self.image):
            local = result.cache_output()
            if not local.exists():  # made by another machine: fetch this machine's copy
                download(result.output(), local)
            results.append((result.label(), neural_style.load_image(local.path)))
        sheet = make_contact_sheet(neural_style.load_image(content_path.path), results)
        self.publish(lambda temporary: neural_style.save_image(sheet, temporary))
