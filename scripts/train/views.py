"""Test-time views, exactly as the Worker builds them (src/preprocess/views.ts).

A view is named by a string: ``hflip`` (the mirror image), ``shift(dy,dx)`` (the image moved so that
output pixel (y, x) shows input pixel (y+dy, x+dx), edges reflected as the training crops pad them)
or ``hflip+shift(dy,dx)`` (mirror first, then shift). Shifts stay within the 4 px the training crops
moved images by. Each image is followed by its views in one batch; the outputs are averaged back.
"""
from __future__ import annotations

import re
from typing import List, Tuple

import numpy as np

MAX_SHIFT = 4
VIEW_RE = re.compile(r"^(?:(hflip)|(hflip\+)?shift\((-?\d),(-?\d)\))$")


def parse_view(view: str) -> Tuple[bool, int, int]:
    """-> (mirror, dy, dx); ValueError for a name the Worker would refuse."""
    m = VIEW_RE.match(view)
    if not m:
        raise ValueError(f"unknown test-time view {view!r}")
    if m.group(1):
        return True, 0, 0
    dy, dx = int(m.group(3)), int(m.group(4))
    if max(abs(dy), abs(dx)) > MAX_SHIFT or (dy, dx) == (0, 0):
        raise ValueError(f"shift out of range in {view!r}")
    return bool(m.group(2)), dy, dx


def apply_view(x: np.ndarray, view: str) -> np.ndarray:
    """[N,C,H,W] -> the view of each image (same shape)."""
    mirror, dy, dx = parse_view(view)
    if mirror:
        x = x[..., ::-1]
    if dy or dx:
        h, w = x.shape[-2:]
        padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(MAX_SHIFT, MAX_SHIFT)] * 2, mode="reflect")
        x = padded[..., MAX_SHIFT + dy:MAX_SHIFT + dy + h, MAX_SHIFT + dx:MAX_SHIFT + dx + w]
    return x


def with_views(x: np.ndarray, views: List[str]) -> np.ndarray:
    """[N,3,H,W] -> [N*k,3,H,W]: each image followed by its views, the order the Worker batches them."""
    stack = [x] + [apply_view(x, v) for v in views]
    return np.stack(stack, axis=1).reshape(-1, *x.shape[1:])


def mean_over_views(out: np.ndarray, k: int) -> np.ndarray:
    return out.reshape(-1, k, *out.shape[1:]).mean(axis=1)
