"""The torch engine of the arbitrary-style network: its ONNX graphs run op by op in torch.

Magenta's arbitrary-style models ship as quantize/dequantize (QDQ) graphs, so a
faithful torch version has to quantize activations exactly where the graph
does. Rather than a hand-written module per graph, ``graph_of`` turns an ONNX
graph into plain data (nodes as dicts of strings, ints, floats and lists;
initializers as tensors), which a tensors-only checkpoint holds and
``torch.load(weights_only=True)`` reads back, and ``run_graph`` executes that
data with torch ops. Only the 17 op types these two graphs use are known; any
other is refused at conversion time.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .errors import NeuralStyleError

OPS = {"Add", "Clip", "Conv", "DequantizeLinear", "GlobalAveragePool", "Mul", "Pad",
       "QuantizeLinear", "Reciprocal", "Relu", "Reshape", "Resize", "Sigmoid", "Sqrt", "Sub",
       "Transpose"}
# ONNX elem_type -> the integer range QuantizeLinear saturates to
QUANT_RANGES = {torch.int8: (-128, 127), torch.uint8: (0, 255), torch.int32: (-2**31, 2**31 - 1)}


def graph_of(model, source: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """(graph as plain data, initializers as tensors) of an onnx ModelProto."""
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    tensors = {tensor.name: torch.from_numpy(numpy_helper.to_array(tensor).copy())
               for tensor in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type not in OPS:
            raise NeuralStyleError(f"{source}: op {node.op_type} is not supported by the torch "
                                   "engine; use --engine onnx")
        attributes = {}
        for attribute in node.attribute:
            value = onnx.helper.get_attribute_value(attribute)
            attributes[attribute.name] = (value.decode() if isinstance(value, bytes)
                                          else list(value) if isinstance(value, (list, tuple))
                                          else value)
        nodes.append({"op": node.op_type, "inputs": list(node.input),
                      "outputs": list(node.output), "attributes": attributes})
    initializers = {tensor.name for tensor in graph.initializer}
    return ({"nodes": nodes, "inputs": [i.name for i in graph.input if i.name not in initializers],
             "outputs": [o.name for o in graph.output]}, tensors)


def run_graph(graph: dict, tensors: dict, feeds: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    values = dict(tensors)
    values.update(feeds)
    for node in graph["nodes"]:
        inputs = [values[name] if name else None for name in node["inputs"]]
        values[node["outputs"][0]] = _run(node["op"], inputs, node["attributes"])
    return [values[name] for name in graph["outputs"]]


def _per_axis(tensor: torch.Tensor, like: torch.Tensor, axis: int) -> torch.Tensor:
    if tensor.dim() == 0:
        return tensor
    shape = [1] * like.dim()
    shape[axis] = -1
    return tensor.reshape(shape)


def _run(op: str, inputs: list, attributes: dict) -> torch.Tensor:
    if op == "DequantizeLinear":
        x, scale, zero = inputs[0], inputs[1], inputs[2]
        axis = attributes.get("axis", 1)
        zero = torch.zeros((), dtype=x.dtype) if zero is None else zero
        return ((x.to(torch.float32) - _per_axis(zero, x, axis).to(torch.float32))
                * _per_axis(scale, x, axis))
    if op == "QuantizeLinear":
        x, scale, zero = inputs
        low, high = QUANT_RANGES[zero.dtype]
        return (torch.round(x / scale) + zero.to(torch.float32)).clamp(low, high).to(zero.dtype)
    if op == "Conv":
        x, weight, bias = (inputs + [None])[:3]
        pads = attributes.get("pads", [0] * 4)
        if pads[0] != pads[2] or pads[1] != pads[3]:
            x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
            pads = [0, 0, 0, 0]
        return F.conv2d(x, weight, bias, stride=attributes.get("strides", [1, 1]),
                        padding=(pads[0], pads[1]), dilation=attributes.get("dilations", [1, 1]),
                        groups=attributes.get("group", 1))
    if op == "Pad":
        x, pads = inputs[0], [int(p) for p in inputs[1].tolist()]
        mode = attributes.get("mode", "constant")
        if x.dim() != 4:
            raise NeuralStyleError("the torch engine pads only 4-D tensors")
        if not (pads[0] or pads[3] or pads[4] or pads[7]):  # NHWC (TF's layout): pad H, W
            nchw = F.pad(x.permute(0, 3, 1, 2), (pads[2], pads[6], pads[1], pads[5]), mode=mode)
            return nchw.permute(0, 2, 3, 1)
        if not (pads[0] or pads[1] or pads[4] or pads[5]):  # NCHW
            return F.pad(x, (pads[3], pads[7], pads[2], pads[6]), mode=mode)
        raise NeuralStyleError("the torch engine pads only the spatial axes")
    if op == "Resize":
        x, scales = inputs[0], inputs[2]
        if attributes.get("mode") != "nearest" or attributes.get(
                "coordinate_transformation_mode") != "asymmetric":
            raise NeuralStyleError("the torch engine resizes only nearest/asymmetric")
        factors = [float(s) for s in scales.tolist()[2:]]
        return F.interpolate(x, scale_factor=factors, mode="nearest")
    if op == "Reshape":
        x, shape = inputs
        shape = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape.tolist())]
        return x.reshape(shape)
    if op == "Transpose":
        return inputs[0].permute(*attributes["perm"])
    if op == "Clip":
        x, low, high = (inputs + [None, None])[:3]
        return x.clamp(None if low is None else low.item(), None if high is None else high.item())
    if op == "GlobalAveragePool":
        return inputs[0].mean(dim=tuple(range(2, inputs[0].dim())), keepdim=True)
    simple = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul}
    if op in simple:
        return simple[op](*inputs)
    unary = {"Relu": torch.relu, "Sigmoid": torch.sigmoid, "Sqrt": torch.sqrt,
             "Reciprocal": torch.reciprocal}
    return unary[op](inputs[0])


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()
