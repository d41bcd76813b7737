"""``python -m neural_style eval|convert``.

Every failure (a NeuralStyleError, running out of memory, anything unexpected)
becomes one line on stderr, ``neural_style: error: ...``, and exit status 1;
SIGTERM and SIGINT remove the temp file and exit 143 and 130 with one line;
--verbose adds the traceback. Library warnings (Pillow's "Corrupt EXIF data",
torch's) stay off stderr unless --verbose.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings

from csci_utils.atomic import atomic_path
from csci_utils.cli import stops_cleanly_on_signals
from csci_utils.one_line import first_line
from csci_utils.write_errors import WriteError

from .errors import NeuralStyleError

PROGRAM = "neural_style"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    parser = argparse.ArgumentParser(prog=f"python -m {PROGRAM}", parents=[common],
                                     description="Fast neural style transfer.")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("eval", parents=[common], help="stylize one image")
    evaluate.add_argument("--content-image", required=True, help="image to stylize")
    evaluate.add_argument("--model", default=None,
                          help=".pth checkpoint (converted or pytorch/examples) or .onnx file")
    evaluate.add_argument("--style-image", default=None, metavar="PATH",
                          help="any picture as the style (Magenta's arbitrary-style network; "
                               "--model may then name a `convert --arbitrary` checkpoint)")
    evaluate.add_argument("--output-image", required=True,
                          help="where to write the result (written atomically)")
    evaluate.add_argument("--style", default=None,
                          help="style index 0..25 (required for multistyle26.pth) or a blend "
                               "such as 3:0.5,12:0.5 (weights are normalised to sum to 1)")
    evaluate.add_argument("--content-scale", type=float, default=None,
                          help="shrink the content image by this factor first")
    evaluate.add_argument("--cuda", type=int, choices=(0, 1), default=0, help="1: run on the GPU")
    add_control_arguments(evaluate)
    evaluate.add_argument("--engine", choices=("auto", "torch", "onnx"), default="auto",
                          help="auto (default): onnxruntime when installed, else torch")
    evaluate.add_argument("--threads", type=int, default=None, metavar="N",
                          help="engine threads (default: the engine's own, one per core)")

    convert = commands.add_parser("convert", parents=[common],
                                  help="turn an ONNX model into tensors-only checkpoint(s)")
    convert.add_argument("--onnx", default=None,
                         help="the .onnx file to convert (default: the bundled multistyle26.onnx)")
    convert.add_argument("--output-dir", required=True, help="directory for the .pth files")
    convert.add_argument("--arbitrary", action="store_true",
                         help="convert the bundled style-image network (arbitrary_predict.onnx, "
                              "arbitrary_transform.onnx) into magenta_arbitrary.pth instead")
    return parser


def run_eval(arguments: argparse.Namespace) -> None:
    from .arbitrary import ArbitraryStyle
    from .controls import Controls, stylize_with_controls
    from .images import load_image, save_image
    from .model import load_model
    from .threads import set_threads

    set_threads(arguments.threads)
    controls = Controls.of(arguments.style, arguments.strength, arguments.preserve_color,
                           arguments.max_size, arguments.tile_size)
    if arguments.model is None and arguments.style_image is None:
        raise NeuralStyleError("pass --model PATH or --style-image PATH")
    device = "cuda" if arguments.cuda else "cpu"
    if arguments.style_image is not None:
        if controls.style is not None:
            raise NeuralStyleError("--style picks one of a model's styles; drop it with "
                                   "--style-image")
        model = ArbitraryStyle(arguments.style_image, device, arguments.engine,
                               checkpoint=arguments.model)
        image = load_image(arguments.content_image)
    else:
        image = load_image(arguments.content_image)
        style = None if controls.style is None else controls.style.first
        model = load_model(arguments.model, style=style, device=device, engine=arguments.engine)
    stylized = stylize_with_controls(image, model, controls, arguments.content_scale)
    with atomic_path(arguments.output_image) as temporary:
        save_image(stylized, temporary)
    print(f"{PROGRAM}: {arguments.content_image} -> {arguments.output_image} "
          f"({stylized.width}x{stylized.height}, {describe(controls, arguments)})",
          file=sys.stderr)
    print(arguments.output_image)


def describe(controls, arguments: argparse.Namespace) -> str:
    words = [f"style image {arguments.style_image}"] if arguments.style_image else []
    return ", ".join(words + [controls.describe()] if controls.describe() else words) or "defaults"


def add_control_arguments(parser: argparse.ArgumentParser) -> None:
    """--strength, --preserve-color, --max-size, --tile-size (neural_style/controls.py)."""
    parser.add_argument("--strength", type=float, default=1.0, metavar="F",
                        help="0 gives the content back, 1 (default) the full style")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the content's colours (luminance from the stylized image)")
    parser.add_argument("--max-size", type=int, default=None, metavar="N",
                        help="shrink the image so that its longer side is at most N first")
    parser.add_argument("--tile-size", type=int, default=None, metavar="N",
                        help="stylize in overlapping tiles of N px (automatic above 1.5 MP)")


def run_convert(arguments: argparse.Namespace) -> None:
    from .bundled import bundled_multistyle_onnx
    from .conversion import convert

    if arguments.arbitrary:
        from .arbitrary import convert_arbitrary

        print(convert_arbitrary(arguments.output_dir))
        return
    for path in convert(arguments.onnx or bundled_multistyle_onnx(), arguments.output_dir):
        print(path)


@stops_cleanly_on_signals(PROGRAM)
def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not arguments.verbose:
                warnings.simplefilter("ignore")
            {"eval": run_eval, "convert": run_convert}[arguments.command](arguments)
    except Exception as error:  # noqa: BLE001 - the CLI's one place that turns errors into a line
        if arguments.verbose:
            traceback.print_exc()
        print(f"{PROGRAM}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    return 0


def _one_line(error: BaseException) -> str:
    if isinstance(error, (NeuralStyleError, WriteError)):
        return str(error)
    if isinstance(error, MemoryError):
        return "out of memory: use a smaller image or a larger --content-scale"
    line = first_line(error, default="")
    return f"{type(error).__name__}: {line}" if line else type(error).__name__
