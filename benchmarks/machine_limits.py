"""The network's work per pixel, counted from its ONNX graph, and this CPU's peak.

Used by style_engines.py. FLOPs: every Conv (which is nearly all the work)
counts 2 x C_out x H_out x W_out x C_in/group x k_h x k_w; the shapes come from
running the graph once at the given size with each Conv output exposed. Peak:
cores x clock x FP32 FLOPs per cycle per core, read off /proc/cpuinfo:

* 2 FMA pipes x 2 FLOPs x SIMD lanes: 8 lanes with AVX2+FMA, 16 with AVX-512 on
  Intel; AMD before Zen 5 runs a 512-bit op as two 256-bit halves, so AVX-512 on
  AMD counts 8 lanes, like AVX2;
* the clock is the "cpu MHz" line (the base clock a VM reports; turbo would be
  higher, so real peak may be ~20-40 % above this estimate);
* avx512_bf16 (VDPBF16PS) doubles the rate for bf16 dot products, VNNI
  (VPDPBUSD) quadruples it for int8: ceilings for reduced precision.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def conv_flops(onnx_path, feed: dict) -> int:
    """FLOPs of every Conv node of the graph for this input."""
    import onnx
    import onnxruntime

    model = onnx.load(str(onnx_path))
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    existing = {output.name for output in model.graph.output}
    for node in convs:
        if node.output[0] not in existing:
            model.graph.output.append(onnx.ValueInfoProto(name=node.output[0]))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    shapes = dict(zip(names, (value.shape for value in session.run(None, feed))))
    weights = {tensor.name: tuple(tensor.dims) for tensor in model.graph.initializer}
    total = 0
    for node in convs:
        out_channels, in_per_group, kernel_h, kernel_w = weights[node.input[1]]
        _, _, height, width = shapes[node.output[0]]
        total += 2 * out_channels * height * width * in_per_group * kernel_h * kernel_w
    return total


def cpu_peak() -> tuple[float, str]:
    """Estimated FP32 peak of this machine in GFLOP/s, and how it was estimated."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    amd = fields.get("vendor_id") == "AuthenticAMD"
    family = int(fields.get("cpu family", "0") or 0)
    if "avx512f" in flags and not (amd and family < 26):  # Zen 5 is family 26
        lanes, simd = 16, "AVX-512"
    elif "avx512f" in flags:
        lanes, simd = 8, "AVX-512 as 2x256-bit (AMD before Zen 5)"
    elif {"avx2", "fma"} <= flags:
        lanes, simd = 8, "AVX2+FMA"
    else:
        lanes, simd = 4, "SSE"
    per_cycle = 2 * 2 * lanes  # 2 FMA pipes x (multiply + add) x lanes
    mhz = float(fields.get("cpu MHz", "0") or 0)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    peak = cores * mhz / 1000 * per_cycle
    extras = [name for name, flag in (("bf16 x2", "avx512_bf16"), ("int8 x4", "avx512_vnni"))
              if flag in flags]
    how = (f"{cores} cores x {mhz / 1000:.2f} GHz x {per_cycle} FP32 FLOP/cycle "
           f"({simd}, 2 FMA pipes)")
    if extras:
        how += f"; reduced precision: {', '.join(extras)}"
    return peak, how


def random_feed(size: int, style_input: str, num_styles: int, style: int) -> dict:
    image = np.random.default_rng(size).random((1, 3, size, size), dtype=np.float32)
    weights = np.zeros(num_styles, np.float32)
    weights[style] = 1
    return {"image": image, style_input: weights}
