"""int8 weights for an fp32 ONNX graph: per-output-channel symmetric int8 + DequantizeLinear.

Conv, MatMul and Gemm weight initializers (>= 1,024 values) are stored as int8 with one float
scale per output channel; a DequantizeLinear node restores float32 weights inside the graph, so
the file is about 4x smaller and every runtime that runs the fp32 graph runs this one. Compute
stays float32 (weight-only quantization): accuracy loss is what rounding the weights costs.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

MIN_VALUES = 1024


def _weight_axis(op: onnx.NodeProto, ndim: int) -> int:
    """Axis of the output channels of the weight (input 1) of a Conv/MatMul/Gemm."""
    if op.op_type == "Conv":
        return 0
    if op.op_type == "Gemm":
        trans_b = next((a.i for a in op.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    return ndim - 1  # MatMul: [.., K, N]


def quantize_weights(src: str, dst: str) -> dict:
    model = onnx.load(src)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    uses = {}
    for node in g.node:
        for i, name in enumerate(node.input):
            uses.setdefault(name, []).append((node, i))
    new_nodes, replaced, q_values = [], 0, 0
    for name, t in list(inits.items()):
        users = uses.get(name, [])
        if not users or any(n.op_type not in ("Conv", "MatMul", "Gemm") or i != 1 for n, i in users):
            continue
        w = numpy_helper.to_array(t)
        if w.dtype != np.float32 or w.ndim < 2 or w.size < MIN_VALUES:
            continue
        axes = {_weight_axis(n, w.ndim) for n, _ in users}
        if len(axes) != 1:
            continue
        axis = axes.pop()
        red = tuple(d for d in range(w.ndim) if d != axis)
        scale = np.maximum(np.abs(w).max(axis=red), 1e-12) / 127.0
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        g.initializer.remove(t)
        g.initializer.extend([
            numpy_helper.from_array(q, f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{name}_zero"),
        ])
        new_nodes.append(helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"],
                                          [name], name=f"{name}_dequantize", axis=axis))
        replaced += 1
        q_values += int(w.size)
    # Initializers come first in topological order, so the DequantizeLinear nodes can lead the graph.
    nodes = new_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return {"method": "weight-only int8, symmetric per output channel (DequantizeLinear)",
            "tensors": replaced, "values": q_values}
