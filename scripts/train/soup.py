"""Average two runs' weights (a uniform "model soup", Wortsman et al. 2022) into .cache/train/<id>.

Two warm restarts of one model start from the same weights and end in the same basin, so their
average is a model too, often better than either end: nest-cifar10's 1.3.0 (84.98%) and a
further restart of it (84.94%) average to 85.16% on the hold-out. The hold-out picks whether a
soup ships (as it picks which restart ships), so read its figure as selected, not blind.

    python3 -m scripts.train.soup --id nest-cifar10 --with .cache/train/nest-cifar10.run17
"""
from __future__ import annotations

import argparse
import json
import os

import torch

from . import data as cifar
from .command import reproduce
from .recipes import RECIPES, input_size
from .train import OUT_ROOT, build_model, evaluate


UNIFORM = 0.5  # the default share of the other run; left out of the recorded command


def average(a: dict, b: dict, weight: float = UNIFORM) -> dict:
    """(1 - weight) * a + weight * b for float tensors; integer buffers (indices) are taken from a."""
    if a.keys() != b.keys():
        raise ValueError("the two checkpoints are not of one architecture")
    return {k: torch.lerp(a[k].float(), b[k].float(), weight).to(a[k].dtype) if a[k].is_floating_point() else a[k]
            for k in a}


def soup(model_id: str, other: str, weight: float = UNIFORM) -> dict:
    out = os.path.join(OUT_ROOT, model_id)
    load = lambda d: torch.load(os.path.join(d, "checkpoint.pth"), map_location="cpu")
    sd = average(load(out), load(other), weight)
    model = build_model(RECIPES[model_id])
    model.load_state_dict(sd)
    d = cifar.load()
    final = evaluate(model, d["x_hold"], d["y_hold"], torch.device("cpu"), input_size=input_size(model_id))  # no_grad, eval mode inside
    # The longer history of the two (the other run is a restart of this one) plus the averaging step.
    with open(os.path.join(other, "record.json")) as f:
        record = json.load(f)
    # Only the soup's own figures: the other run's record may carry release.py's (views, single_view) for its weights.
    record["metrics"] = {"dataset": cifar.HOLDOUT_NAME, **final, "measured_by": "PyTorch eager (scripts/train/soup.py)"}
    record["training"]["soup"] = {"of": [f".cache/train/{model_id}", other], "weight": weight,
                                  "command": reproduce("soup", id=model_id, with_=other, weight=None if weight == UNIFORM else weight)}
    torch.save(sd, os.path.join(out, "checkpoint.pth"))
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.soup")
    ap.add_argument("--id", required=True, choices=sorted(RECIPES))
    ap.add_argument("--with", dest="other", required=True, help="the other run's folder (checkpoint.pth + record.json)")
    ap.add_argument("--weight", type=float, default=UNIFORM, help="the other run's share")
    a = ap.parse_args(argv)
    print(json.dumps(soup(a.id, a.other, a.weight)["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
