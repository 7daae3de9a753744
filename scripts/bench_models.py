"""Builds the models `npm run bench:compare` measures (random weights, git-ignored .cache/models/):
ViT-Ti/16 fp32 (the issue's anchor), its weight-only int8 and its dynamic int8 variants.

    PYTHONPATH=. /usr/bin/python3 -m scripts.bench_models [--model vit_tiny_patch16_224] [--id vit-tiny-bench]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

from scripts.train.quantize import quantize_dynamic, quantize_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def variant(base_dir: str, base_id: str, suffix: str, fn) -> None:
    out = os.path.join(os.path.dirname(base_dir), base_id + suffix)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    rec = fn(os.path.join(base_dir, "model.onnx"), path)
    data = open(path, "rb").read()
    m = json.load(open(os.path.join(base_dir, "manifest.json")))
    m["id"] = base_id + suffix
    m["onnx"] = {"key": f"models/{m['id']}/model.onnx", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "precision": "int8"}
    m["quantization"] = rec
    m.pop("verification", None)
    json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=2)
    print(f"{m['id']}: {len(data) / 1e6:.1f} MB ({rec['method']})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="vit_tiny_patch16_224")
    ap.add_argument("--id", default="vit-tiny-bench")
    a = ap.parse_args()
    base = os.path.join(REPO, ".cache", "models", a.id)
    if os.path.exists(base):
        shutil.rmtree(base)
    subprocess.run([sys.executable, "-m", "scripts.zoo.export", "--model", a.model, "--out", base, "--id", a.id, "--tier", "edge"],
                   check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    variant(base, a.id, "-int8", quantize_weights)
    variant(base, a.id, "-int8dyn", quantize_dynamic)


if __name__ == "__main__":
    main()
