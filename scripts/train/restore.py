"""Rebuild a training checkpoint from a shipped model, so ``train --resume`` works on a fresh clone.

    /usr/bin/python3 -m scripts.train.restore --id convmixer-cifar10

Training checkpoints live in the git-ignored .cache/train/<id>/; the shipped fp32 ONNX holds the
same tensors as initializers (named ``model.<state_dict key>`` by the export wrapper), and the
manifest holds the training record. This writes both back so a warm restart continues from the
released weights instead of from scratch. Strict: every state_dict tensor must be found with the
same shape, or it refuses. That holds for ConvMixer (its convolutions keep their weights as named
initializers); the transformer exports fold each Linear weight into an unnamed, transposed MatMul
constant, so for those families only the checkpoint that `train` left in .cache/train/ resumes.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from ..zoo.registry import count_params, create_model
from .recipes import RECIPES
from .release import MODELS
from .train import OUT_ROOT


def state_dict_from_onnx(onnx_path: str, model: torch.nn.Module) -> dict:
    graph = onnx.load(onnx_path).graph
    inits = {i.name.removeprefix("model."): numpy_helper.to_array(i) for i in graph.initializer}
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


def restore(model_id: str, log=print) -> str:
    manifest_path = os.path.join(MODELS, model_id, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    model = create_model(RECIPES[model_id]["model"])
    sd = state_dict_from_onnx(os.path.join(MODELS, model_id, "model.onnx"), model)
    model.load_state_dict(sd, strict=True)
    out = os.path.join(OUT_ROOT, model_id)
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, "checkpoint.pth"))
    record = {"id": model_id, "model": RECIPES[model_id]["model"], "params": count_params(model),
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
