"""Exports every named zoo variant for the tier table (`npm run models:tiers`): fp32 and the
shipped int8 scheme, random weights (memory and latency do not depend on the values), into the
git-ignored .cache/tiers/<id>/ with manifests.

    PYTHONPATH=. /usr/bin/python3 -m scripts.zoo.tier_models [variant ...]

Prints one JSON line per variant: {id, variant, family, params, fp32_bytes, int8_bytes}.
Existing exports are kept (delete the folder to rebuild one).
"""
from __future__ import annotations

import argparse
import json
import os

from scripts.bench_models import variant
from scripts.train.quantize import quantize_int8

from .export import export_model
from .registry import get_spec, list_models

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, ".cache", "tiers")


def tier_id(name: str) -> str:
    return "tier-" + name.replace("_", "-")


def export_variant(name: str) -> dict:
    mid = tier_id(name)
    base = os.path.join(OUT, mid)
    if not os.path.exists(os.path.join(base, "manifest.json")):
        export_model(name, base, model_id=mid, verify=False, log=lambda *_: None,
                     source=f"scripts/zoo {name}, random init, for the tier table")
    if not os.path.exists(os.path.join(OUT, mid + "-int8", "manifest.json")):
        variant(base, mid, "-int8", quantize_int8)
    with open(os.path.join(base, "manifest.json")) as f:
        m = json.load(f)
    with open(os.path.join(OUT, mid + "-int8", "manifest.json")) as f:
        q = json.load(f)
    return {"id": mid, "variant": name, "family": get_spec(name).family, "params": m["params"],
            "fp32_bytes": m["onnx"]["bytes"], "int8_bytes": q["onnx"]["bytes"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.zoo.tier_models")
    ap.add_argument("variants", nargs="*", help="default: every named variant (not the CIFAR models)")
    a = ap.parse_args(argv)
    for name in a.variants or list_models(include_cifar=False):
        print(json.dumps(export_variant(name)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
