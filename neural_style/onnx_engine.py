"""The onnxruntime engine: numpy in, numpy out, no torch.

Pre- and post-processing match the torch engine (reflect-pad to a multiple of
4, crop, clamp), so both give the same pixels to ~1e-5. onnxruntime's result
does not depend on its thread count (tested), so a forked one-thread luigi
worker and a two-thread subprocess write the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import threads
from .architectures import INPUT_SCALES, MULTISTYLE, STYLE_INPUT
from .errors import NeuralStyleError
from .model import check_style, padding_for

METADATA_KEY = "neural_style"  # the model's metadata_props entry written by onnx_cache


def new_session(graph, providers=("CPUExecutionProvider",)):
    """An onnxruntime session on ``graph`` (a path or ONNX bytes), this process's threads.

    Its worker threads sleep between operators instead of spinning: spinning bought
    no wall time here and cost CPU that the copy threads and other workers need
    (20 photos of 512 px under load: 9.8-11.2 s of CPU spinning, 6.8-7.3 s not;
    benchmarks/peer_bench.py).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads.configured():
        options.intra_op_num_threads = threads.configured()
    return onnxruntime.InferenceSession(graph, options, providers=list(providers))


def _never_destroy(session) -> None:
    """Keep a session that a forked child inherited alive for good.

    Its destructor joins the parent's worker threads, which the child does not
    have: with spinning off it waits forever (tests/neural_style/
    test_neural_style_processes.py). A forked luigi worker ends with os._exit,
    so nothing is lost by never freeing it.
    """
    import ctypes  # only a forked child that inherited a session gets here

    ctypes.pythonapi.Py_IncRef(ctypes.py_object(session))


class OnnxStyleModel:
    """``stylize_pixels(1x3xHxW float32 in 0..1)`` on an ONNX file made by onnx_cache."""

    engine = "onnx"
    training = False

    def __init__(self, onnx_path: Path, style: int | None, device: str = "cpu",
                 source: Path | None = None):
        self.onnx_path, self.providers = str(onnx_path), onnxruntime_providers(device)
        self._session, self._session_pid = None, None
        session = self.session  # made here too, so that a bad file fails at load time
        self.metadata = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        self.architecture = self.metadata["architecture"]
        self.style = check_style(style, self.metadata, source or Path(onnx_path))
        self.input_scale = np.float32(INPUT_SCALES[self.architecture])
        self.input_name = session.get_inputs()[0].name
        self.style_weights = None
        if self.architecture == MULTISTYLE:
            self.style_weights = np.zeros(self.metadata["num_styles"], np.float32)
            self.style_weights[self.style] = 1.0
        self.device = "cuda" if self.providers[0].startswith("CUDA") else "cpu"

    @property
    def session(self):
        """This process's session: onnxruntime's thread pool does not survive a fork."""
        if self._session_pid != os.getpid():
            if self._session is not None:  # made before a fork, in the parent
                _never_destroy(self._session)
            self._session = self.new_session(self.onnx_path)
            self._session_pid = os.getpid()
        return self._session

    def new_session(self, graph):
        """An onnxruntime session on ``graph`` (a path, or ONNX bytes: tiles' variants)."""
        return new_session(graph, self.providers)

    def __getstate__(self):  # picklable (multiprocessing): the session is rebuilt
        return {**self.__dict__, "_session": None, "_session_pid": None}

    def __copy__(self):
        # A style blend's copy (controls.with_style_weights) shares this process's
        # session: without this, copy.copy went through __getstate__ and every image
        # made a new session (~80 ms, plus a slow first run).
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def stylize_pixels(self, pixels: np.ndarray) -> np.ndarray:
        return self.run_pixels(pixels)[0]

    def run_pixels(self, pixels: np.ndarray, session=None, extra: dict | None = None) -> list:
        """The stylized pixels, then the session's other outputs (tiles' statistics).

        ``session`` defaults to this model's; ``extra`` are more inputs to feed it.
        """
        height, width = pixels.shape[-2:]
        pad_bottom, pad_right = padding_for(height, width)
        if pad_bottom or pad_right:
            pixels = np.pad(pixels, ((0, 0), (0, 0), (0, pad_bottom), (0, pad_right)),
                            mode="reflect")
        if self.input_scale != 1:
            pixels = pixels * self.input_scale
        feed = {self.input_name: np.ascontiguousarray(pixels, dtype=np.float32)}
        if self.style_weights is not None:
            feed[STYLE_INPUT] = self.style_weights
        stylized, *others = (session or self.session).run(None, {**feed, **(extra or {})})
        if self.input_scale != 1:  # ours: scale and clamp in place
            np.divide(stylized, self.input_scale, out=stylized)
        return [np.clip(stylized, 0, 1, out=stylized)[..., :height, :width], *others]


def onnxruntime_providers(device: str) -> list[str]:
    if not str(device).startswith("cuda"):
        return ["CPUExecutionProvider"]
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        raise NeuralStyleError(
            "--engine onnx with --cuda 1 needs onnxruntime-gpu; use --cuda 0 or --engine torch")
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]
