"""ConvMixer ("Patches Are All You Need?", Trockman & Kolter 2022) -- the zoo's own definition.

Layout and parameter names follow timm's ``ConvMixer`` state_dict so timm checkpoints load
with ``strict=True``:

    stem.0 (Conv k=p, stride=p)  stem.1 act  stem.2 BatchNorm
    blocks.{i}.0.fn.0 depthwise Conv (k, 'same')  .fn.1 act  .fn.2 BatchNorm   (residual)
    blocks.{i}.1 pointwise Conv 1x1   blocks.{i}.2 act   blocks.{i}.3 BatchNorm
    head (Linear)

Odd kernel sizes use explicit symmetric padding k//2 (identical to padding='same' and friendlier to
ONNX / FLOP counters).
"""
from __future__ import annotations

import torch.nn as nn

from .layers import ZooModel


class Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def _act(name: str) -> type:
    return {"gelu": nn.GELU, "relu": nn.ReLU}[name]


class ConvMixer(ZooModel):
    family = "convmixer"

    def __init__(
        self,
        dim: int = 768,
        depth: int = 32,
        kernel_size: int = 9,
        patch_size: int = 7,
        in_chans: int = 3,
        num_classes: int = 1000,
        act: str = "gelu",
        img_size: int = 224,  # informational only: ConvMixer is resolution agnostic
        drop_rate: float = 0.0,
    ):
        super().__init__()
        act_layer = _act(act)
        self.num_classes = num_classes
        self.num_features = dim
        self.img_size = img_size
        pad = kernel_size // 2 if kernel_size % 2 == 1 else "same"
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size),
            act_layer(),
            nn.BatchNorm2d(dim),
        )
        self.blocks = nn.Sequential(*[
            nn.Sequential(
                Residual(nn.Sequential(
                    nn.Conv2d(dim, dim, kernel_size, groups=dim, padding=pad),
                    act_layer(),
                    nn.BatchNorm2d(dim),
                )),
                nn.Conv2d(dim, dim, kernel_size=1),
                act_layer(),
                nn.BatchNorm2d(dim),
            )
            for _ in range(depth)
        ])
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(dim, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x):
        return self.blocks(self.stem(x))

    def forward_head(self, x, pre_logits: bool = False):
        x = x.mean(dim=(2, 3))  # global average pool -> [N, dim]
        if pre_logits:
            return x
        return self.head(self.head_drop(x))
