"""Turn a trained checkpoint into shipped models: models/<id>/ (fp32) and models/<id>-int8/.

    /usr/bin/python3 -m scripts.train.release --id convmixer-cifar10

* fp32 ONNX + manifest through the zoo exporter (checked against PyTorch on a random batch);
* int8 weights (scripts/train/quantize.py) with their own manifest;
* the manifest's test-time views (``tta``: the family's recipe, scripts/train/views.py): the API
  averages each image's outputs over itself and its views;
* accuracy of both graphs on the 5,000 hold-out images with onnxruntime-web (the Worker's runtime),
  as served (with the views) and from one view, stated in each manifest's ``metrics`` (the API test
  holds the default to it within one point);
* parity.json: PyTorch-eager logits and embeddings of 16 hold-out JPEGs, from one view and as
  served, and PyTorch top-1 of 500 as served, which test/worker/models.test.ts compares with what
  the API returns.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch

from ..zoo.export import export_model, sha256_file
from ..zoo.layers import ExportWrapper
from . import data as cifar
from .quantize import quantize_int8
from .recipes import RECIPES, input_size, served_views
from .train import OUT_ROOT, build_model, model_input
from .views import mean_over_views, with_views

MODELS = os.path.join(cifar.REPO, "models")
SOURCE = ("trained from scratch on CIFAR-10 (45,000 training images of cifar10-train.tar; the last 500 per "
          "class held out) by scripts/train/train.py")


def topk_metrics(logits: np.ndarray, y: np.ndarray) -> dict:
    top5 = np.argsort(-logits, axis=1)[:, :5]
    return {"top1": float(np.mean(top5[:, 0] == y)), "top5": float(np.mean((top5 == y[:, None]).any(1)))}


def ort_web_logits(onnx_path: str, x: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as td:
        inp, out = os.path.join(td, "x.bin"), os.path.join(td, "logits.bin")
        x.astype(np.float32).tofile(inp)
        subprocess.run(["node", os.path.join(cifar.REPO, "scripts/train/ort_eval.mjs"), onnx_path, inp,
                        str(len(x)), str(x.shape[-1]), out], check=True, cwd=cifar.REPO)
        return np.fromfile(out, dtype=np.float32).reshape(len(x), -1)


def served_metrics(onnx_path: str, x: np.ndarray, y: np.ndarray, views) -> dict:
    """Hold-out top-1/top-5 in onnxruntime-web as the API serves it (mean over the views) and from one view."""
    k = 1 + len(views)
    logits = ort_web_logits(onnx_path, with_views(x, views))
    return {"dataset": cifar.HOLDOUT_NAME, **topk_metrics(mean_over_views(logits, k), y), "views": views,
            "single_view": topk_metrics(logits[::k], y),
            "measured_by": "onnxruntime-web (WASM) in Node, scripts/train/release.py"}


def eager_outputs(wrapper, x: np.ndarray, chunk: int = 2000):
    """(logits, embedding) of PyTorch eager over x, a chunk at a time (ten views of 5,000 images at once would not fit)."""
    with torch.no_grad():
        outs = [wrapper(torch.from_numpy(np.ascontiguousarray(x[i:i + chunk]))) for i in range(0, len(x), chunk)]
    return tuple(np.concatenate([o[j].numpy() for o in outs]) for j in range(2))


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def next_version(previous, sha256: str) -> str:
    """New weights under the same id bump the minor version, so clients can tell which weights
    answered them (a retrain from scratch as much as a warm restart); the same weights keep it."""
    if not previous:
        return "1.0.0"
    major, minor, _ = (int(p) for p in previous["version"].split("."))
    return previous["version"] if previous["onnx"]["sha256"] == sha256 else f"{major}.{minor + 1}.0"


def read_manifest(folder: str):
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def release(model_id: str, log=print) -> None:
    run = os.path.join(OUT_ROOT, model_id)
    with open(os.path.join(run, "record.json")) as f:
        record = json.load(f)
    sd = torch.load(os.path.join(run, "checkpoint.pth"), map_location="cpu")
    out = os.path.join(MODELS, model_id)
    previous = read_manifest(out)
    size = input_size(model_id)
    manifest = export_model(record["model"], out, state_dict=sd, model_id=model_id, source=SOURCE, img_size=size,
                            log=log)
    manifest["license"] = "MIT"
    manifest["version"] = next_version(previous, manifest["onnx"]["sha256"])

    d = cifar.load()
    x = model_input(d["x_hold"], size).numpy()
    y = d["y_hold"]
    views = served_views(model_id)
    k = 1 + len(views)
    model = build_model(RECIPES[model_id]).eval()
    model.load_state_dict(sd)
    logits, emb = eager_outputs(ExportWrapper(model), with_views(x, views))
    one = {"logits": logits[::k], "embedding": emb[::k]}
    served = {"logits": mean_over_views(logits, k), "embedding": mean_over_views(emb, k)}

    manifest["tta"] = views
    fp32 = served_metrics(os.path.join(out, "model.onnx"), x, y, views)
    manifest["metrics"] = {**fp32, "pytorch_top1": topk_metrics(served["logits"], y)["top1"]}
    manifest["training"] = record["training"]
    write_json(os.path.join(out, "manifest.json"), manifest)

    sel = np.arange(16) * (len(y) // 16)
    every10 = np.arange(0, len(y), 10)
    write_json(os.path.join(out, "parity.json"), {
        "reference": "PyTorch eager, fp32, on PIL-decoded hold-out JPEGs",
        "tar_member": [str(n) for n in d["hold_names"][sel]],
        "logits": np.round(one["logits"][sel], 6).tolist(),
        "embedding": np.round(one["embedding"][sel], 6).tolist(),
        "views": views,
        "served": {"logits": np.round(served["logits"][sel], 6).tolist(),
                   "embedding": np.round(served["embedding"][sel], 6).tolist()},
        "top1_members": [str(n) for n in d["hold_names"][every10]],
        "top1": served["logits"][every10].argmax(1).tolist(),
    })

    q_id = f"{model_id}-int8"
    q_dir = os.path.join(MODELS, q_id)
    os.makedirs(q_dir, exist_ok=True)
    q_path = os.path.join(q_dir, "model.onnx")
    q_rec = quantize_int8(os.path.join(out, "model.onnx"), q_path)
    int8 = served_metrics(q_path, x, y, views)
    q_manifest = json.loads(json.dumps(manifest))
    q_manifest.update({
        "id": q_id,
        "onnx": {"key": f"models/{q_id}/model.onnx", "sha256": sha256_file(q_path), "bytes": os.path.getsize(q_path),
                 "precision": "int8"},
        "metrics": {**int8, "fp32_top1": fp32["top1"]},
        "quantization": q_rec,
    })
    q_manifest.pop("verification", None)
    write_json(os.path.join(q_dir, "manifest.json"), q_manifest)
    log(json.dumps({"id": model_id, "params": manifest["params"], "fp32": fp32, "int8": int8,
                    "bytes_fp32": manifest["onnx"]["bytes"], "bytes_int8": q_manifest["onnx"]["bytes"]}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.release")
    ap.add_argument("--id", required=True)
    a = ap.parse_args(argv)
    release(a.id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
