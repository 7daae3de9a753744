"""GMAC counter.

Counts multiply-accumulates of the ops that dominate vision models, by intercepting aten ops with a
``TorchDispatchMode`` (available on torch 1.13 and 2.x, and on the meta device, so ViT-L is counted
without allocating or computing anything):

* ``convolution``      N * C_out * H_out * W_out * (C_in / groups) * kH * kW    ("conv" / "dwconv")
* ``mm`` / ``addmm``   M * K * N   (nn.Linear)                                  ("linear")
* ``bmm`` / ``baddbmm`` B * M * K * N (attention QK^T, AV, einsums)             ("matmul")

Normalisation, activations, softmax and pooling are not counted (they are <1% for these models).
Published timm figures (fvcore) additionally count norms (BatchNorm 2/elem, LayerNorm 5/elem) and --
for ConvMixer -- miss the depthwise convolutions, because timm builds them with ``padding='same'``
(aten::_convolution_mode, unknown to fvcore). ``Macs.by_kind`` lets tests compare like with like.

Usage: ``python3 -m scripts.zoo.flops [names...] [--img-size S]``.
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _prod(xs) -> int:
    out = 1
    for v in xs:
        out *= int(v)
    return out


@dataclass
class Macs:
    by_kind: Dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    @property
    def gmacs(self) -> float:
        return self.total / 1e9

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v / 1e9:.3f}G" for k, v in sorted(self.by_kind.items()))
        return f"Macs(total={self.gmacs:.3f}G; {parts})"


class _Counter(TorchDispatchMode):
    def __init__(self, macs: Macs):
        super().__init__()
        self.macs = macs

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = getattr(func, "overloadpacket", None)
        try:
            if packet is aten.convolution:
                x, w = args[0], args[1]
                groups = int(args[8]) if len(args) > 8 else int(kwargs.get("groups", 1))
                transposed = bool(args[6]) if len(args) > 6 else False
                kind = "dwconv" if groups > 1 and groups == x.shape[1] else "conv"
                if transposed:  # not used by the zoo; count on the input grid
                    n = x.shape[0] * _prod(x.shape[2:]) * w.shape[0] * _prod(w.shape[1:])
                else:
                    n = _prod(out.shape) * _prod(w.shape[1:])
                self.macs.by_kind[kind] += n
            elif packet in (aten.mm, aten.addmm):
                a, b = (args[0], args[1]) if packet is aten.mm else (args[1], args[2])
                self.macs.by_kind["linear"] += a.shape[0] * a.shape[1] * b.shape[1]
            elif packet in (aten.bmm, aten.baddbmm):
                a, b = (args[0], args[1]) if packet is aten.bmm else (args[1], args[2])
                self.macs.by_kind["matmul"] += a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
        except Exception:  # pragma: no cover - never let counting break a forward
            pass
        return out


def count_macs(model: torch.nn.Module, img_size: int = 224, batch: int = 1, in_chans: int = 3,
               device=None) -> Macs:
    """MACs of one forward pass of ``model`` on a [batch, in_chans, S, S] input (meta-device friendly)."""
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    x = torch.empty(batch, in_chans, img_size, img_size, device=device)
    if device.type != "meta":
        x.normal_()
    macs = Macs()
    was_training = model.training
    model.eval()
    with torch.no_grad(), _Counter(macs):
        model(x)
    model.train(was_training)
    return macs


def count_model(name: str, img_size: int = None, **overrides) -> Macs:
    """Count MACs of a registered variant, built on the meta device."""
    from .registry import create_model_meta, default_cfg

    if img_size:
        overrides.setdefault("img_size", img_size)
    model = create_model_meta(name, **overrides)
    size = img_size or default_cfg(name)["input_size"]
    return count_macs(model, img_size=size)


def main(argv=None) -> int:
    from .registry import count_params, create_model_meta, list_models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--img-size", type=int, default=None)
    a = ap.parse_args(argv)
    names = a.names or list_models()
    print(f"{'model':36s} {'params(M)':>10s} {'GMACs':>8s}  breakdown")
    for n in names:
        m = create_model_meta(n, img_size=a.img_size) if a.img_size else create_model_meta(n)
        macs = count_model(n, img_size=a.img_size)
        print(f"{n:36s} {count_params(m) / 1e6:10.2f} {macs.gmacs:8.3f}  {macs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
