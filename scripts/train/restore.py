"""Rebuild a training checkpoint from a shipped model, so ``train --resume`` works on a fresh clone.

    /usr/bin/python3 -m scripts.train.restore --id convmixer-cifar10

Training checkpoints live in the git-ignored .cache/train/<id>/; the shipped fp32 ONNX holds the
same tensors as initializers (named ``model.<state_dict key>`` by the export wrapper), and the
manifest holds the training record. This writes both back so a warm restart continues from the
released weights instead of from scratch. Strict: every state_dict tensor must be found with the
same shape, or it refuses. Convolutions, norms and biases keep their names; the export folds each
Linear weight W into an unnamed constant W^T feeding a MatMul node, whose name still spells the
module's scope (``/blocks/blocks.0/mlp/fc1/MatMul`` for ``blocks.0.mlp.fc1``), so those are found
by node name and transposed back; Swin's relative-position tables, folded into the bias each
attention adds, are scattered back through the module's index. tests/test_train.py checks every
family reproduces its shipped parity logits.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from ..zoo.registry import count_params
from .recipes import RECIPES
from .release import MODELS
from .train import OUT_ROOT, build_model


def module_path(node_name: str) -> str:
    """``/layers/layers.0/blocks/blocks.1/attn/qkv/MatMul`` -> ``layers.0.blocks.1.attn.qkv``: torch
    names a ModuleList child's scope "<list>.<index>" after a scope for the list itself."""
    parts = node_name.strip("/").split("/")[:-1]
    kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
    return ".".join(kept)


def folded_linear_weights(graph) -> dict:
    """Module path -> W for every MatMul whose weight input is an unnamed initializer W^T."""
    arrays = {i.name: i for i in graph.initializer}
    out = {}
    for node in graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in arrays and not node.input[1].startswith("model."):
            out[module_path(node.name)] = numpy_helper.to_array(arrays[node.input[1]]).T
    return out


def folded_position_tables(graph, model: torch.nn.Module) -> dict:
    """Swin's relative-position bias: the export folds table[index] into the constant (1, heads,
    N, N) added to the attention logits of that module; scatter it back through the index."""
    arrays = {i.name: i for i in graph.initializer}
    added = {}
    for node in graph.node:
        if node.op_type == "Add":
            for name in node.input:
                if name in arrays and not name.startswith("model."):
                    added.setdefault(module_path(node.name), []).append(numpy_helper.to_array(arrays[name]))
    out = {}
    for path, module in model.named_modules():
        table, index = getattr(module, "relative_position_bias_table", None), getattr(module, "relative_position_index", None)
        if table is None or index is None:
            continue
        n, heads = index.shape[0], table.shape[1]
        found = [a for a in added.get(path, []) if a.shape == (1, heads, n, n)]
        if len(found) != 1:
            continue
        flat = found[0][0].reshape(heads, n * n).T  # (N*N, heads), row k = table[index[k]]
        rebuilt = np.full(tuple(table.shape), np.nan, dtype=np.float32)
        rebuilt[index.reshape(-1).numpy()] = flat
        if not np.isnan(rebuilt).any():
            out[f"{path}.relative_position_bias_table"] = rebuilt
    return out


def state_dict_from_onnx(onnx_path: str, model: torch.nn.Module) -> dict:
    graph = onnx.load(onnx_path).graph
    inits = {i.name.removeprefix("model."): numpy_helper.to_array(i) for i in graph.initializer}
    for path, w in folded_linear_weights(graph).items():
        inits.setdefault(f"{path}.weight", w)
    for key, table in folded_position_tables(graph, model).items():
        inits.setdefault(key, table)
    sd = {}
    for key, ref in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            sd[key] = ref  # not exported; unused with momentum-based BatchNorm
            continue
        if key not in inits:
            raise KeyError(f"{onnx_path}: no initializer for {key} (was it folded at export?)")
        arr = inits[key]
        if tuple(arr.shape) != tuple(ref.shape):
            raise ValueError(f"{key}: ONNX shape {arr.shape} != model shape {tuple(ref.shape)}")
        sd[key] = torch.from_numpy(np.array(arr, dtype=np.float32))
    return sd


def shipped_manifest(model_id: str) -> dict:
    with open(os.path.join(MODELS, model_id, "manifest.json")) as f:
        return json.load(f)


def shipped_model(model_id: str) -> torch.nn.Module:
    """The family's zoo module carrying the weights of its committed fp32 ONNX, at the input size its manifest serves."""
    model = build_model(RECIPES[model_id], shipped_manifest(model_id)["preprocess"]["size"])
    model.load_state_dict(state_dict_from_onnx(os.path.join(MODELS, model_id, "model.onnx"), model), strict=True)
    return model


def restore(model_id: str, log=print) -> str:
    manifest = shipped_manifest(model_id)
    model = shipped_model(model_id)
    out = os.path.join(OUT_ROOT, model_id)
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, "checkpoint.pth"))
    record = {"id": model_id, "model": RECIPES[model_id]["model"], "input_size": manifest["preprocess"]["size"],
              "params": count_params(model),
              "metrics": manifest.get("metrics", {}), "training": manifest["training"]}
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
    log(f"restored {model_id} ({record['params']} params, {manifest['training']['epochs']} epochs) into {out}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.restore")
    ap.add_argument("--id", required=True, choices=sorted(RECIPES))
    restore(ap.parse_args(argv).id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
