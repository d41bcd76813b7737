"""Tiles on onnxruntime: two variants of a style graph that share norm statistics.

tiles.py needs every instance norm of every tile to normalise with the whole
image's statistics. On torch it swaps the norm modules' forward; here the ONNX
graph itself is rewritten, once per tiled image (``import onnx`` ~0.9 s, against
tens of seconds for an image big enough to be tiled):

* every ``InstanceNormalization`` node (a TransformerNet export) is first spelt
  out as the Magenta graph spells its norms: ``mean = ReduceMean(x)``,
  ``variance = ReduceMean((x - mean)^2)``, then ``(x - mean) / sqrt(variance +
  eps) * scale + bias``;
* the **recording** variant returns each norm's mean and variance (1xCx1x1) as
  extra outputs;
* the **replaying** variant takes them as inputs instead: the two ReduceMean
  nodes of each norm are gone, and so is whatever only fed them.

Both keep the graph's dynamic height and width, so every tile runs through one
session.
"""

from __future__ import annotations

import numpy as np

from .errors import NeuralStyleError


class OnnxNorms:
    """``record(pixels) -> statistics`` and ``replay(pixels, statistics) -> 3xHxW``
    on an OnnxStyleModel, for tiles.py."""

    def __init__(self, model):
        import onnx  # only tiled images need the graph rewritten

        self.model = model
        proto = onnx.load(model.onnx_path)
        statistics = explicit_norms(proto)
        if not statistics:
            raise NeuralStyleError(f"{model.onnx_path}: no instance norms found, so this "
                                   "graph cannot be tiled; use --engine torch")
        self.names = [name for pair in statistics for name in pair]
        recording = onnx.ModelProto()
        recording.CopyFrom(proto)
        recording.graph.output.extend(onnx.ValueInfoProto(name=name) for name in self.names)
        self.recording = recording.SerializeToString()
        self.replaying = model.new_session(replaying(proto, self.names).SerializeToString())

    def record(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        # A session of its own, let go afterwards with the memory it ran in.
        _, *values = self.model.run_pixels(pixels, self.model.new_session(self.recording))
        return dict(zip(self.names, values))

    def replay(self, pixels: np.ndarray, statistics: dict[str, np.ndarray]) -> np.ndarray:
        return self.model.run_pixels(pixels, self.replaying, statistics)[0][0]


def explicit_norms(model) -> list[tuple[str, str]]:
    """Spell out InstanceNormalization nodes (in place); return every norm's
    (mean, variance) tensor names."""
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")),
                 17)
    nodes = []
    for index, node in enumerate(graph.node):
        if node.op_type != "InstanceNormalization":
            nodes.append(node)
            continue
        x, scale, bias = node.input
        epsilon = next((attribute.f for attribute in node.attribute
                        if attribute.name == "epsilon"), 1e-5)
        name = f"{node.output[0]}/explicit{index}"
        graph.initializer.extend([
            numpy_helper.from_array(np.float32(epsilon), f"{name}/epsilon"),
            numpy_helper.from_array(np.array([1, -1, 1, 1], np.int64), f"{name}/shape")])
        nodes += [
            _reduce_mean(x, f"{name}/mean", opset, graph),
            helper.make_node("Sub", [x, f"{name}/mean"], [f"{name}/centred"]),
            helper.make_node("Mul", [f"{name}/centred", f"{name}/centred"], [f"{name}/square"]),
            _reduce_mean(f"{name}/square", f"{name}/variance", opset, graph),
            helper.make_node("Add", [f"{name}/variance", f"{name}/epsilon"], [f"{name}/v+e"]),
            helper.make_node("Sqrt", [f"{name}/v+e"], [f"{name}/std"]),
            helper.make_node("Div", [f"{name}/centred", f"{name}/std"], [f"{name}/normal"]),
            helper.make_node("Reshape", [scale, f"{name}/shape"], [f"{name}/scale"]),
            helper.make_node("Reshape", [bias, f"{name}/shape"], [f"{name}/bias"]),
            helper.make_node("Mul", [f"{name}/normal", f"{name}/scale"], [f"{name}/scaled"]),
            helper.make_node("Add", [f"{name}/scaled", f"{name}/bias"], list(node.output)),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return _norm_statistics(graph)


def _reduce_mean(source: str, output: str, opset: int, graph):
    """ReduceMean over height and width, kept as 1xCx1x1 (axes: an input from opset 18)."""
    from onnx import helper, numpy_helper

    if opset < 18:
        return helper.make_node("ReduceMean", [source], [output], axes=[2, 3], keepdims=1)
    graph.initializer.append(numpy_helper.from_array(np.array([2, 3], np.int64), f"{output}/axes"))
    return helper.make_node("ReduceMean", [source, f"{output}/axes"], [output], keepdims=1)


def _norm_statistics(graph) -> list[tuple[str, str]]:
    """(mean, variance) of every norm: ``mean = ReduceMean(x)``, ``c = x - mean``,
    ``variance = ReduceMean(c * c)`` (or ``Pow(c, 2)``)."""
    made_by = {output: node for node in graph.node for output in node.output}
    means = {node.output[0]: node.input[0] for node in graph.node
             if node.op_type == "ReduceMean"}
    pairs = []
    for node in graph.node:
        if node.op_type != "ReduceMean":
            continue
        square = made_by.get(node.input[0])
        if square is None or square.op_type not in ("Pow", "Mul"):
            continue
        centred = made_by.get(square.input[0])
        if (centred is not None and centred.op_type == "Sub" and centred.input[1] in means
                and means[centred.input[1]] == centred.input[0]):
            pairs.append((centred.input[1], node.output[0]))
    return pairs


def replaying(model, names: list[str]):
    """``model`` (changed in place) with ``names`` as inputs instead of computed."""
    from onnx import TensorProto, helper

    graph = model.graph
    wanted = set(names)
    kept = [node for node in graph.node if not wanted & set(node.output)]
    needed = {output.name for output in graph.output}
    live = []
    for node in reversed(kept):  # nodes are in topological order: drop what feeds nothing
        if needed & set(node.output):
            live.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(live))
    graph.input.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
                       for name in names)
    return model
