"""Shared building blocks for the zoo's own model definitions.

Everything here is written to run on torch 1.13 (Debian) and torch 2.x alike, to
trace cleanly for the legacy (TorchScript) ONNX exporter, and to work on the
``meta`` device (shape-only construction used by the GMAC counter / tests).
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def to_2tuple(x) -> Tuple[int, int]:
    if isinstance(x, (tuple, list)):
        assert len(x) == 2
        return int(x[0]), int(x[1])
    return int(x), int(x)


def trunc_normal_(t: torch.Tensor, std: float = 0.02, a: float = -2.0, b: float = 2.0) -> torch.Tensor:
    """Truncated normal init (absolute cut-offs ``a``/``b`` like timm's trunc_normal_).

    A no-op on the meta device (there is no data to fill)."""
    if t.device.type == "meta":
        return t
    with torch.no_grad():
        return nn.init.trunc_normal_(t, mean=0.0, std=std, a=a, b=b)


def init_linear_conv(module: nn.Module, std: float = 0.02) -> None:
    """ViT-style init: trunc-normal Linear/Conv weights, zero bias, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            trunc_normal_(m.weight, std=std)
            if m.bias is not None and m.bias.device.type != "meta":
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm) and m.weight is not None and m.weight.device.type != "meta":
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Mlp(nn.Module):
    """Transformer MLP. Parameter names follow timm: ``fc1``, ``fc2``."""

    def __init__(self, in_features: int, hidden_features: int, out_features: int = None, act_layer=nn.GELU):
        super().__init__()
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ZooModel(nn.Module):
    """Common interface of every zoo model.

    * ``forward_features(x)`` -> backbone features (family specific layout)
    * ``forward_head(x, pre_logits)`` -> pooled embedding (pre_logits=True) or logits
    * ``forward(x)`` -> logits
    * ``forward_export(x)`` -> ``(logits, embedding)``; used by :class:`ExportWrapper`
    * ``num_features`` -> embedding width
    """

    num_features: int = 0
    family: str = "other"

    def forward_features(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_head(self, x, pre_logits: bool = False):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def forward_export(self, x):
        feats = self.forward_features(x)
        embedding = self.forward_head(feats, pre_logits=True)
        logits = self.forward_head(feats, pre_logits=False)
        return logits, embedding


class ExportWrapper(nn.Module):
    """Wraps a zoo model so ``forward`` returns ``(logits, embedding)`` (ONNX export)."""

    def __init__(self, model: ZooModel):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model.forward_export(pixel_values)


def resample_grid_embed(posemb: torch.Tensor, old_hw: Tuple[int, int], new_hw: Tuple[int, int]) -> torch.Tensor:
    """Bicubic resize of a [1, H*W, C] grid of position embeddings to [1, h*w, C]."""
    if tuple(old_hw) == tuple(new_hw):
        return posemb
    c = posemb.shape[-1]
    dtype = posemb.dtype
    grid = posemb.reshape(1, old_hw[0], old_hw[1], c).permute(0, 3, 1, 2).float()
    kwargs = {}
    if new_hw[0] < old_hw[0] or new_hw[1] < old_hw[1]:
        kwargs["antialias"] = True  # as timm: anti-alias when shrinking
    grid = F.interpolate(grid, size=tuple(new_hw), mode="bicubic", align_corners=False, **kwargs)
    return grid.permute(0, 2, 3, 1).reshape(1, new_hw[0] * new_hw[1], c).to(dtype)


def square_side(n: int) -> int:
    s = int(round(math.sqrt(n)))
    if s * s != n:
        raise ValueError(f"cannot infer a square grid from {n} positions")
    return s
