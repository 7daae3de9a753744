"""Hold-out top-1 of the shipped models under candidate sets of test-time views, as the API averages them.

    /usr/bin/python3 -m scripts.train.views_probe --id swin-cifar10 [--id ...] [--checkpoint] [--split-check]

Prints, per model, top-1 on the 5,000 hold-out images from one view and with each candidate set
(logits averaged over the image and its views, PyTorch eager). The weights are the shipped ONNX's
(models/<id>/model.onnx), or with ``--checkpoint`` a training run's (.cache/train/<id>/checkpoint.pth),
to weigh views before a release. This is how the recipes' ``tta`` was chosen (README, "Against the
goals"): the same hold-out measures the shipped figures, so a set picked here carries a selection
bias. ``--split-check`` sizes that bias: it picks the best set on one half of the hold-out (even
indices, 250 per class) and measures it on the other, both ways round (a 2-fold cross-check).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from . import data as cifar
from .recipes import FLIP, RECIPES, flip_and_diagonal_shifts, input_size, served_views
from .restore import shipped_manifest, shipped_model
from .train import OUT_ROOT, build_model, memory_format, model_input
from .views import apply_view

# Ordered by cost, so a tie goes to the cheaper set. The shift sets are the mirror plus four diagonal
# shifts of the image and of the mirror.
CANDIDATES = {
    "one view": [],
    "mirror": FLIP,
    "1-px set": flip_and_diagonal_shifts(1),
    "2-px set": flip_and_diagonal_shifts(2),
}
IDENTITY = ""


def load(model_id: str, checkpoint: bool):
    """-> (model, the input size it takes, the views it is served with): a training checkpoint's are
    its recipe's (what release.py would write), the shipped model's its manifest's."""
    if checkpoint:
        model, size, views = build_model(RECIPES[model_id]), input_size(model_id), served_views(model_id)
        model.load_state_dict(torch.load(os.path.join(OUT_ROOT, model_id, "checkpoint.pth"), map_location="cpu"), strict=True)
    else:
        manifest = shipped_manifest(model_id)
        model, size, views = shipped_model(model_id), manifest["preprocess"]["size"], manifest.get("tta", [])
    return model.eval().to(memory_format=memory_format(RECIPES[model_id])), size, views


@torch.no_grad()
def logits_per_view(model, fmt, x: np.ndarray, views: set, chunk: int = 250) -> dict:
    """view -> [N, classes] logits; each distinct view runs once, however many sets share it."""
    def run(view: str) -> np.ndarray:
        return np.concatenate([
            model(torch.from_numpy(np.ascontiguousarray(apply_view(x[i:i + chunk], view) if view else x[i:i + chunk]))
                  .contiguous(memory_format=fmt)).numpy()
            for i in range(0, len(x), chunk)])
    return {v: run(v) for v in sorted(views)}


def correct_by_set(per_view: dict, y: np.ndarray, sets: dict) -> dict:
    """set name -> per-image bool: is the top-1 of the logits averaged over the image and its views right?"""
    return {name: np.mean([per_view[v] for v in [IDENTITY, *views]], axis=0).argmax(1) == y
            for name, views in sets.items()}


def split_check(correct: dict, halves=(slice(0, None, 2), slice(1, None, 2))) -> dict:
    """Pick the best set on each half, measure it on the other: an estimate free of the pick's bias."""
    out = {}
    for label, (pick_on, measure_on) in {"even->odd": halves, "odd->even": halves[::-1]}.items():
        best = max(correct, key=lambda n: correct[n][pick_on].mean())  # max keeps the first (cheapest) of ties
        out[label] = (best, float(correct[best][measure_on].mean()))
    out["cross-checked"] = float(np.mean([acc for _, acc in out.values()]))
    return out


def probe(model_id: str, x_u8: np.ndarray, y: np.ndarray, checkpoint: bool = False) -> dict:
    model, size, served = load(model_id, checkpoint)
    x = model_input(x_u8, size).numpy()
    sets = {**CANDIDATES, "served": served}
    per_view = logits_per_view(model, memory_format(RECIPES[model_id]), x, {IDENTITY, *(v for s in sets.values() for v in s)})
    correct = correct_by_set(per_view, y, sets)
    served = correct.pop("served")
    return {"top1": {n: float(c.mean()) for n, c in correct.items()}, "split": split_check(correct),
            "served": (len(sets["served"]) + 1, float(served.mean()))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.views_probe")
    ap.add_argument("--id", action="append", required=True, choices=sorted(RECIPES))
    ap.add_argument("--checkpoint", action="store_true", help="probe .cache/train/<id>/checkpoint.pth, not the shipped ONNX")
    ap.add_argument("--split-check", action="store_true", help="also pick on one half of the hold-out, measure on the other")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    d = cifar.load()
    results = {model_id: probe(model_id, d["x_hold"], d["y_hold"], a.checkpoint) for model_id in a.id}
    print("| model | " + " | ".join(f"{n} (views: {1 + len(v)})" for n, v in CANDIDATES.items()) + " | as served |")
    print("| --- " * (2 + len(CANDIDATES)) + "|")
    for model_id, r in results.items():
        k, served = r["served"]
        print(f"| {model_id} | " + " | ".join(f"{100 * r['top1'][n]:.2f}" for n in CANDIDATES) + f" | {100 * served:.2f} ({k} views) |")
    if a.split_check:
        print("\n| model | picked on even half: set, top-1 on odd | picked on odd half: set, top-1 on even | cross-checked top-1 | as served |")
        print("| --- " * 5 + "|")
        for model_id, r in results.items():
            s = r["split"]
            cells = [f"{s[h][0]}, {100 * s[h][1]:.2f}" for h in ("even->odd", "odd->even")]
            print(f"| {model_id} | " + " | ".join(cells) + f" | {100 * s['cross-checked']:.2f} | {100 * r['served'][1]:.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
