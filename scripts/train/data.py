"""CIFAR-10 from ../shared/datasets/cifar10-train.tar as uint8 arrays, with the project's hold-out split.

The hold-out split is the last 500 files (sorted names) of each class, the same rule as
test/support/tar.ts: training never sees them, and the API tests measure accuracy on them.
Decoded arrays are cached in .cache/cifar10-u8.npz (about 150 MB) so a run starts in seconds.
"""
from __future__ import annotations

import io
import os
import tarfile
from typing import Dict, List, Tuple

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
HOLDOUT_PER_CLASS = 500
HOLDOUT_NAME = "cifar10-holdout-5000"  # the `dataset` every record and manifest names its metrics by
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("EDGE_VIT_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
TAR = os.path.join(SHARED, "datasets", "cifar10-train.tar")
CACHE = os.path.join(REPO, ".cache", "cifar10-u8.npz")


def split_names(names: List[str]) -> Tuple[List[Tuple[str, int]], List[Tuple[str, int]]]:
    """-> (train, holdout) lists of (member name, label)."""
    train, hold = [], []
    for label, cls in enumerate(CLASSES):
        own = sorted(n for n in names if n.startswith(f"train/{cls}/"))
        train += [(n, label) for n in own[:-HOLDOUT_PER_CLASS]]
        hold += [(n, label) for n in own[-HOLDOUT_PER_CLASS:]]
    return train, hold


def _decode(tf: tarfile.TarFile, members: Dict[str, tarfile.TarInfo], items) -> np.ndarray:
    from PIL import Image

    out = np.empty((len(items), 32, 32, 3), dtype=np.uint8)
    for i, (name, _) in enumerate(items):
        with Image.open(io.BytesIO(tf.extractfile(members[name]).read())) as im:
            out[i] = np.asarray(im.convert("RGB"))
    return out


def load(tar_path: str = TAR, cache: str = CACHE) -> Dict[str, np.ndarray]:
    """-> {x_train [N,32,32,3] u8, y_train, x_hold, y_hold, hold_names}."""
    if os.path.exists(cache):
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    with tarfile.open(tar_path) as tf:
        members = {m.name: m for m in tf.getmembers() if m.isfile()}
        train, hold = split_names(list(members))
        data = {
            "x_train": _decode(tf, members, train), "y_train": np.array([l for _, l in train], np.int64),
            "x_hold": _decode(tf, members, hold), "y_hold": np.array([l for _, l in hold], np.int64),
            "hold_names": np.array([n for n, _ in hold]),
        }
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    np.savez(cache, **data)
    return data
