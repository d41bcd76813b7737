"""``python -m pset_4``: stylize images from the remote root and print where the results are.

Exit status: 0 only when Luigi reports success; otherwise non-zero (the numbers
of luigi.cfg [retcode]: 20 missing input, 30 task failed, ...) with one line on
stderr saying why. 2 for bad command-line arguments. 143 on SIGTERM and 130 on
SIGINT (temp files removed, one line). --verbose adds Luigi's log and tracebacks.

A run that reaches its batch ends with one summary line on stderr (stylized,
already done, failed, seconds), after a live progress bar when stderr is a
terminal (pset_4.progress).
"""

from __future__ import annotations

import argparse
import fnmatch
import logging
import sys
import time
from collections.abc import Sequence

import luigi
import luigi.configuration

from csci_utils.cli import OneLineErrorParser, run_build, stops_cleanly_on_signals
from csci_utils.exit_codes import RETCODES, UNEXPECTED, USAGE_ERROR

from .config import Settings, is_s3
from .errors import PipelineError
from .names import ImageNameParameter, ModelNameParameter, StylePictureNameParameter
from .outcome import failure_reason
from .seed import BUNDLED_MODEL, SAMPLE_IMAGE

DEFAULT_STYLE = 0  # for multi-style models such as the bundled multistyle26.pth


def build_parser() -> OneLineErrorParser:
    defaults = Settings()
    parser = OneLineErrorParser(
        prog="python -m pset_4",
        description="Stylize content images with saved models, as Luigi tasks. "
        "Images are read from <remote>/images, models from <remote>/saved_models.",
    )
    parser.add_argument(
        "-i",
        "--image",
        action="append",
        dest="images",
        metavar="IMAGE",
        help="content image name in <remote>/images, or a shell-style pattern such as "
        f"'*.jpg' (matched with one listing); repeatable (default: {SAMPLE_IMAGE})",
    )
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        dest="models",
        metavar="MODEL",
        help=f"saved model name on the remote; repeatable (default: {BUNDLED_MODEL})",
    )
    parser.add_argument("--style", action="append", dest="styles", metavar="K",
                        help="style index of a multi-style model, 0-25, or a blend such as "
                        f"3:0.5,12:0.5; repeatable (default: {DEFAULT_STYLE})")
    parser.add_argument("--strength", action="append", dest="strengths", type=float,
                        metavar="F", help="0: the content, 1: the full style (default); "
                        "repeatable, e.g. a ramp for --contact-sheet")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the content's colours, luminance from the stylized image")
    parser.add_argument("--max-size", type=int, metavar="N",
                        help="shrink images to at most N px on the longer side first")
    parser.add_argument("--tile-size", type=int, metavar="N",
                        help="stylize in overlapping tiles of N px (automatic above 1.5 MP)")
    parser.add_argument("--style-image", metavar="NAME",
                        help="a picture in <remote>/styles as the style (instead of the model's)")
    parser.add_argument("--content-scale", type=float, metavar="F",
                        help="shrink content images by this factor before stylizing")
    parser.add_argument("--remote", default="", metavar="ROOT",
                        help="s3://bucket/prefix or a folder (default: luigi.cfg [pset_4] "
                        f"remote_root, now {defaults.remote_root})")
    parser.add_argument(
        "--local-root",
        default="",
        metavar="DIR",
        help=f"local cache of images and models (default: [pset_4] local_root, now "
             f"{defaults.local_root})",
    )
    parser.add_argument(
        "--output-dir",
        default="",
        metavar="DIR",
        help=f"where results go (default: [pset_4] output_dir, now {defaults.output_dir})",
    )
    parser.add_argument("--option", choices=("A", "B"), default="B",
                        help="B: stylize in-process, model loaded once (default); "
                        "A: one `python -m neural_style eval` process per image")
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="Luigi worker processes (default 1)"
    )
    scheduler = parser.add_mutually_exclusive_group()
    scheduler.add_argument("--local-scheduler", action="store_true",
                           help="schedule in this process (the default, unless luigi.cfg "
                           "[core] default_scheduler_url names a luigid)")
    scheduler.add_argument("--scheduler-url", metavar="URL", help="use a central luigid, e.g. http://127.0.0.1:8082")
    seeding = parser.add_mutually_exclusive_group()
    seeding.add_argument(
        "--seed",
        dest="seed",
        action="store_true",
        default=None,
        help=f"first upload {SAMPLE_IMAGE} and {BUNDLED_MODEL} to the remote if it lacks them "
        "(default: only for a local-folder remote)",
    )
    seeding.add_argument("--no-seed", dest="seed", action="store_false")
    parser.add_argument("--contact-sheet", action="store_true",
                        help="also make one PNG grid per image of the content and all its results")
    parser.add_argument("--verbose", action="store_true", help="show Luigi's log and tracebacks")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.images = args.images or [SAMPLE_IMAGE]
    if args.style_image:  # no model is downloaded: the bundled style-image network runs
        from neural_style.arbitrary import ARCHITECTURE

        if args.models or args.styles:
            parser.error("--style-image takes the place of --model and --style; drop them")
        args.models, args.styles = [ARCHITECTURE], [None]
    args.models = args.models or [BUNDLED_MODEL]
    args.styles = args.styles or [DEFAULT_STYLE]
    args.strengths = args.strengths or [1.0]
    try:
        _check_controls(args)
        args.images = [ImageNameParameter().normalize(image) for image in args.images]
        args.models = [ModelNameParameter().normalize(model) for model in args.models]
    except PipelineError as error:
        parser.error(str(error))
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.content_scale is not None and args.content_scale <= 0:
        parser.error(f"--content-scale must be positive, got {args.content_scale}")
    settings = Settings()  # an option not given: luigi.cfg [pset_4], else its default
    args.remote = args.remote or settings.remote_root
    args.local_root = args.local_root or settings.local_root
    args.output_dir = args.output_dir or settings.output_dir
    if args.seed is None:
        args.seed = not is_s3(args.remote)
    return args


def first_style(style):
    """The index a model is loaded with; a blend's weights are set per task."""
    return style if style is None or isinstance(style, int) else int(str(style).split(":")[0])


def _check_controls(args) -> None:
    """neural_style's own checks, so a bad --strength or --style fails before any task;
    each --style is put in its normalised form (``3:1`` is ``3``)."""
    from neural_style import NeuralStyleError
    from neural_style.controls import Controls

    from .tasks.stylize import StyleParameter

    if args.style_image:
        args.style_image = StylePictureNameParameter().normalize(args.style_image)
    try:
        for style in args.styles:
            for strength in args.strengths:
                Controls.of(style, strength, args.preserve_color, args.max_size, args.tile_size)
    except NeuralStyleError as error:
        raise PipelineError(str(error)) from None
    args.styles = [StyleParameter().normalize(style) for style in args.styles]


def _configure_logging(verbose: bool) -> None:
    """Quiet by default (the CLI prints its own one-line error); Luigi's log with --verbose.

    The root logger is only given a handler when it has none, so a host
    program's (or pytest's) logging setup is left alone.
    """
    level = logging.INFO if verbose else logging.CRITICAL
    if verbose:
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for name in ("luigi", "luigi-interface", "pset_4"):
        logging.getLogger(name).setLevel(level)


def _keep_luigi_from_configuring_logging() -> None:
    # Luigi would otherwise install its own DEBUG handler on the first build.
    luigi_config = luigi.configuration.get_config()
    if not luigi_config.has_section("core"):
        luigi_config.add_section("core")
    luigi_config.set("core", "no_configure_logging", "true")


def _scheduling(args) -> dict:
    """--scheduler-url, else --local-scheduler, else luigi.cfg [core] default_scheduler_url,
    else local."""
    if args.scheduler_url:
        return {"scheduler_url": args.scheduler_url, "local_scheduler": False}
    if not args.local_scheduler and luigi.configuration.get_config().get(
        "core", "default_scheduler_url", ""
    ):
        return {"local_scheduler": False}  # luigi reads the URL from its config
    return {"local_scheduler": True}


def _build(tasks, args, local: bool = False, watch=None) -> int:
    """``local``: this machine's own work (seeding, its cache), never handed to luigid.
    ``watch``: held around the build (the batch's CommandLineProgress)."""
    scheduling = {"local_scheduler": True} if local else _scheduling(args)
    return run_build(tasks, prog="pset_4", verbose=args.verbose, explain=failure_reason,
                     workers=args.workers, watch=watch, **scheduling)


SCHEDULER_UNREACHABLE = RETCODES["scheduling_error"]


def _check_scheduler(args) -> str | None:
    """One line when the central luigid does not answer (else luigi retries for minutes)."""
    import urllib.request

    scheduling = _scheduling(args)
    if scheduling["local_scheduler"]:
        return None
    url = scheduling.get("scheduler_url") or luigi.configuration.get_config().get(
        "core", "default_scheduler_url"
    )
    try:
        with urllib.request.urlopen(
            f"{url.rstrip('/')}/api/task_list?data=%7B%22limit%22%3A1%7D", timeout=5
        ):
            return None
    except Exception as error:  # noqa: BLE001 - any failure to answer is the same line
        return (
            f"cannot reach luigid at {url} ({type(error).__name__}): start it, or fix "
            "--scheduler-url "
            "/ luigi.cfg [core] default_scheduler_url"
        )


def _share_batches() -> None:
    # On luigid, wait while other workers run tasks of this batch (and take over a
    # dead one's), so every process returns when the whole batch is done.
    luigi_config = luigi.configuration.get_config()
    if not luigi_config.has_section("worker"):
        luigi_config.add_section("worker")
    if not luigi_config.has_option("worker", "keep_alive"):
        luigi_config.set("worker", "keep_alive", "true")


def is_pattern(name: str) -> bool:
    """``-i '*.jpg'``: a shell-style pattern (``*``, ``?``, ``[...]``), not a file name."""
    return any(char in name for char in "*?[")


def match_images(requested: Sequence[str], listing: dict) -> tuple[list[str], list[str]]:
    """The images that ``requested`` names and patterns pick from ``listing`` (the names
    under ``<remote>/images``), in order, each once; and the names and patterns that
    found nothing."""
    chosen: dict[str, None] = {}
    unmatched = []
    for item in requested:
        if is_pattern(item):
            found = sorted(name for name in listing if fnmatch.fnmatchcase(name, item))
        else:
            found = [item] if item in listing else []
        if not found:
            unmatched.append(item)
        chosen.update(dict.fromkeys(found))
    return list(chosen), unmatched


def _valid_image_names(listing: dict) -> dict:
    """A listing's names that are usable image names (a pattern never picks the others)."""
    valid = {}
    for name, info in listing.items():
        try:
            valid[ImageNameParameter().normalize(name)] = info
        except PipelineError:
            continue
    return valid


def resolve_identities(args) -> tuple[dict, list[str]]:
    """The content identity (ETag) of every requested image, model and style picture.

    The images come from one listing of ``<remote>/images`` (one request per
    1,000 names), which also expands the patterns of ``-i``: ``args.images``
    becomes the matched names. Models and style pictures are one HEAD each.

    Returns ``({"image:<name>": identity, "style:<picture>": ..., ...}, [missing
    descriptions])``. A missing bucket or an unreachable store raises TransferError (one line).
    """
    from csci_utils.luigi import list_remote, parse_root, remember, remote_target, resolve

    from .outcome import describe_missing

    identities, missing = {}, []
    root = parse_root(args.remote)
    listing = _valid_image_names(list_remote(args.remote, "images", recursive=False))
    args.images, unmatched = match_images(args.images, listing)
    for item in unmatched:
        location = root.url(f"images/{item}")
        missing.append(f"no image matches {item!r} ({location})" if is_pattern(item)
                       else describe_missing(f"images/{item}", location))
    for name in args.images:
        info = listing[name]
        # ContentImage's check and the download reuse the listing's answer: no HEAD.
        remember(root.url(f"images/{name}"), info)
        identities[f"image:{name}"] = info.identity
    for kind, folder, names in (
        ("model", "saved_models", [] if args.style_image else args.models),
        ("style", "styles", [args.style_image] if args.style_image else []),
    ):
        for name in names:
            target = remote_target(args.remote, f"{folder}/{name}")
            info = resolve(target)  # remembered: SavedModel's check and the download reuse it
            if info is None:
                missing.append(describe_missing(f"{folder}/{name}", target.path))
            else:
                identities[f"{kind}:{name}"] = info.identity
    return identities, missing


def _preload_models(args, roots: dict, identities: dict) -> int:
    """Option B with --workers N > 1: download the models and load them here, once.

    luigi then forks one process per task, and each child inherits the loaded
    models (and torch, already imported) instead of loading them again. The
    models land in this machine's cache, so they are downloaded with the local
    scheduler even when the batch runs on luigid.
    """
    from .model_cache import preload
    from .tasks.data import DownloadModel

    downloads = [
        DownloadModel(name=model, identity=identities[f"model:{model}"], **roots)
        for model in args.models
    ]
    code = _build(downloads, args, local=True)
    if code == 0:
        preload((download.output().path, first_style(style))
                for download in downloads for style in args.styles)
    return code


def _result_line(result) -> str:
    """The result's remote URL, and its local copy on this machine when there is one."""
    local = result.cache_output()
    return f"{result.output().path}\t{local.path}" if local.exists() else result.output().path


@stops_cleanly_on_signals("pset_4")
def main(argv: Sequence[str] | None = None) -> int:
    from .progress import CommandLineProgress
    from .tasks.data import SeedStore
    from .tasks.stylize import ContactSheet, StylizeAll

    try:
        args = parse_args(argv)
    except SystemExit as exit_:  # argparse already printed one usage line
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR
    started = time.monotonic()
    _configure_logging(args.verbose)
    _keep_luigi_from_configuring_logging()
    roots = {"remote_root": args.remote, "local_root": args.local_root}
    batch = {**roots, "models": args.models, "styles": args.styles, "option": args.option,
             "content_scale": args.content_scale, "output_dir": args.output_dir,
             "strengths": args.strengths, "preserve_color": args.preserve_color,
             "max_size": args.max_size, "tile_size": args.tile_size,
             "style_image": args.style_image}
    if args.workers > 1:
        import neural_style

        # N forked workers share the cores: each engine gets cores // N threads.
        neural_style.set_threads(neural_style.threads.per_worker(args.workers))
    try:
        problem = _check_scheduler(args)
        if problem:
            print(f"pset_4: error: {problem}", file=sys.stderr)
            return SCHEDULER_UNREACHABLE
        if not _scheduling(args)["local_scheduler"]:
            _share_batches()
        if args.seed:
            code = _build([SeedStore(**roots)], args, local=True)
            if code:
                return code
        identities, missing = resolve_identities(args)
        if missing:
            print(f"pset_4: error: missing on the remote: {'; '.join(missing)}; "
                  "upload it, or check the names and --remote", file=sys.stderr)
            return RETCODES["missing_data"]
        batch["identities"] = identities
        if args.option == "B" and args.workers > 1 and not args.style_image:
            code = _preload_models(args, roots, identities)
            if code:
                return code
        stylized = StylizeAll(images=args.images, **batch)
        sheets = (
            [ContactSheet(image=image, **{**batch, "identities": stylized._identities([image])})
             for image in args.images]
            if args.contact_sheet
            else []
        )
        results = sum(getattr(task, "image_results", 0) for task in stylized.requires())
        # A bar only on a terminal, and not over --verbose's log lines.
        progress = CommandLineProgress(results, bar=sys.stderr.isatty() and not args.verbose)
        code = _build([stylized, *sheets], args, watch=progress)
    except Exception as error:  # noqa: BLE001 - the CLI's one place that turns errors into a line
        if args.verbose:
            raise
        print(f"pset_4: error: {error}", file=sys.stderr)
        return UNEXPECTED
    if code == 0:
        for result in [*stylized.results(), *sheets]:
            print(_result_line(result))
    print(progress.summary("pset_4", time.monotonic() - started, all_done=code == 0),
          file=sys.stderr)
    return code
