"""``python -m neural_style eval|convert``.

A NeuralStyleError becomes one line on stderr and exit status 1; --verbose adds
the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from csci_utils.atomic import atomic_path

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
    evaluate.add_argument("--model", required=True,
                          help=".pth checkpoint (converted or pytorch/examples) or .onnx file")
    evaluate.add_argument("--output-image", required=True,
                          help="where to write the result (written atomically)")
    evaluate.add_argument("--style", type=int, default=None,
                          help="style index 0..25, required for multistyle26.pth")
    evaluate.add_argument("--content-scale", type=float, default=None,
                          help="shrink the content image by this factor first")
    evaluate.add_argument("--cuda", type=int, choices=(0, 1), default=0, help="1: run on the GPU")
    evaluate.add_argument("--engine", choices=("auto", "torch", "onnx"), default="auto",
                          help="auto (default): onnxruntime when installed, else torch")
    evaluate.add_argument("--threads", type=int, default=None, metavar="N",
                          help="engine threads (default: the engine's own, one per core)")

    convert = commands.add_parser("convert", parents=[common],
                                  help="turn an ONNX model into tensors-only checkpoint(s)")
    convert.add_argument("--onnx", default=None,
                         help="the .onnx file to convert (default: the bundled multistyle26.onnx)")
    convert.add_argument("--output-dir", required=True, help="directory for the .pth files")
    return parser


def run_eval(arguments: argparse.Namespace) -> None:
    from .images import load_image, save_image
    from .model import load_model
    from .stylize import stylize
    from .threads import set_threads

    set_threads(arguments.threads)
    image = load_image(arguments.content_image)
    model = load_model(arguments.model, style=arguments.style,
                       device="cuda" if arguments.cuda else "cpu", engine=arguments.engine)
    stylized = stylize(image, model, content_scale=arguments.content_scale)
    with atomic_path(arguments.output_image) as temporary:
        save_image(stylized, temporary)
    print(arguments.output_image)


def run_convert(arguments: argparse.Namespace) -> None:
    from .bundled import bundled_multistyle_onnx
    from .conversion import convert

    for path in convert(arguments.onnx or bundled_multistyle_onnx(), arguments.output_dir):
        print(path)


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        {"eval": run_eval, "convert": run_convert}[arguments.command](arguments)
    except NeuralStyleError as error:
        if arguments.verbose:
            traceback.print_exc()
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 1
    return 0
