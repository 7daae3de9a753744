"""Model registry: named variants -> (class, hyper-parameters, default preprocessing cfg).

``create_model(name, **overrides)`` builds one of the zoo's own definitions. Overrides are passed to
the constructor (e.g. ``num_classes=10``, ``img_size=384``, ``drop_path_rate`` is not supported: the
zoo targets inference/export; a colleague's trainer may add regularisation around the model).

Names ending in ``_cifar`` are the compact CIFAR-10 variants (32x32 input, 10 classes, ~0.6-2.5M
params). Their names, hyper-parameters and constructor signatures are a contract with the training
code: do not change them without telling whoever trains them.
"""
from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List

import torch

from .layers import CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD

_FAMILY_MODULE = {
    "vit": ("vit", "VisionTransformer"),
    "deit": ("vit", "VisionTransformer"),
    "swin": ("swin", "SwinTransformer"),
    "mvitv2": ("mvitv2", "MultiScaleVit"),
    "nest": ("nest", "Nest"),
    "convmixer": ("convmixer", "ConvMixer"),
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # manifest family: vit | deit | swin | mvitv2 | nest | convmixer
    kwargs: Dict[str, Any]
    cfg: Dict[str, Any] = field(default_factory=dict)  # preprocessing defaults (timm default_cfg style)
    timm_name: str = None  # the timm model name with the same architecture (None for compact variants)
    timm_kwargs: Dict[str, Any] = field(default_factory=dict)  # extra kwargs to build the timm twin


def _imagenet_cfg(crop_pct: float, mean=IMAGENET_MEAN, std=IMAGENET_STD, size: int = 224) -> Dict[str, Any]:
    return {
        "input_size": size, "crop_pct": crop_pct, "interpolation": "bicubic", "resize": "shortest_edge",
        "mean": tuple(mean), "std": tuple(std), "num_classes": 1000, "labels": "imagenet",
    }


def _cifar_cfg() -> Dict[str, Any]:
    return {
        "input_size": 32, "crop_pct": 1.0, "interpolation": "bilinear", "resize": "direct",
        "mean": CIFAR10_MEAN, "std": CIFAR10_STD, "num_classes": 10, "labels": "cifar10",
    }


_REGISTRY: Dict[str, ModelSpec] = {}


def _reg(name: str, family: str, kwargs: Dict[str, Any], cfg: Dict[str, Any], timm_name: str = "same",
         timm_kwargs: Dict[str, Any] = None) -> None:
    _REGISTRY[name] = ModelSpec(
        name=name, family=family, kwargs=dict(kwargs), cfg=dict(cfg),
        timm_name=name if timm_name == "same" else timm_name, timm_kwargs=dict(timm_kwargs or {}),
    )


# --------------------------------------------------------------------------------------------- ConvMixer
# timm default cfg: crop_pct 0.96, bicubic, ImageNet mean/std.
_reg("convmixer_1536_20", "convmixer", dict(dim=1536, depth=20, kernel_size=9, patch_size=7), _imagenet_cfg(0.96))
_reg("convmixer_768_32", "convmixer", dict(dim=768, depth=32, kernel_size=7, patch_size=7, act="relu"),
     _imagenet_cfg(0.96))
_reg("convmixer_1024_20_ks9_p14", "convmixer", dict(dim=1024, depth=20, kernel_size=9, patch_size=14),
     _imagenet_cfg(0.96))
# compact variants: sized so that a model trains in well under an hour on 2 CPU cores (4x4 patches,
# 8x8 token grids); scripts/train/recipes.py trains them.
# ConvMixer-256/8, 4x4 patches -> 8x8 tokens, 5x5 depthwise (~0.6M params)
_reg("convmixer_cifar", "convmixer",
     dict(dim=256, depth=8, kernel_size=5, patch_size=4, num_classes=10, img_size=32), _cifar_cfg(),
     timm_name=None)

# --------------------------------------------------------------------------------------------- ViT / DeiT
# timm: vit_*_patch16_224 default weights are AugReg (mean/std 0.5, crop 0.9); DeiT uses ImageNet mean/std, crop 0.9
_VIT = {
    "tiny": dict(embed_dim=192, depth=12, num_heads=3),
    "small": dict(embed_dim=384, depth=12, num_heads=6),
    "base": dict(embed_dim=768, depth=12, num_heads=12),
    "large": dict(embed_dim=1024, depth=24, num_heads=16),
}
for _size in ("tiny", "small", "base", "large"):
    _reg(f"vit_{_size}_patch16_224", "vit", dict(patch_size=16, img_size=224, **_VIT[_size]),
         _imagenet_cfg(0.9, INCEPTION_MEAN, INCEPTION_STD))
for _size in ("tiny", "small", "base"):
    _reg(f"deit_{_size}_patch16_224", "deit", dict(patch_size=16, img_size=224, **_VIT[_size]), _imagenet_cfg(0.9))
    _reg(f"deit_{_size}_distilled_patch16_224", "deit",
         dict(patch_size=16, img_size=224, distilled=True, **_VIT[_size]), _imagenet_cfg(0.9))
# compact: 4x4 patches on 32x32 -> 64 tokens + cls, dim 96, 6 blocks (~0.7M params)
_reg("vit_cifar", "vit",
     dict(img_size=32, patch_size=4, embed_dim=96, depth=6, num_heads=3, mlp_ratio=4.0, num_classes=10),
     _cifar_cfg(), timm_name=None)

# --------------------------------------------------------------------------------------------- Swin
_reg("swin_tiny_patch4_window7_224", "swin",
     dict(img_size=224, patch_size=4, window_size=7, embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
     _imagenet_cfg(0.9))
_reg("swin_small_patch4_window7_224", "swin",
     dict(img_size=224, patch_size=4, window_size=7, embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
     _imagenet_cfg(0.9))
_reg("swin_base_patch4_window7_224", "swin",
     dict(img_size=224, patch_size=4, window_size=7, embed_dim=128, depths=(2, 2, 18, 2),
          num_heads=(4, 8, 16, 32)),
     _imagenet_cfg(0.9))
# compact: 4x4 patches -> 8x8 grid, 2 stages (8, 4), window 4 (~0.5M params)
_reg("swin_cifar", "swin",
     dict(img_size=32, patch_size=4, window_size=4, embed_dim=48, depths=(2, 4), num_heads=(3, 6),
          num_classes=10),
     _cifar_cfg(), timm_name=None)

# --------------------------------------------------------------------------------------------- MViTv2
_reg("mvitv2_tiny", "mvitv2", dict(img_size=224, depths=(1, 2, 5, 2)), _imagenet_cfg(0.9))
_reg("mvitv2_small", "mvitv2", dict(img_size=224, depths=(1, 2, 11, 2)), _imagenet_cfg(0.9))
_reg("mvitv2_base", "mvitv2", dict(img_size=224, depths=(2, 3, 16, 3)), _imagenet_cfg(0.9))
# compact: 4x4/4 stem -> 8x8, stages at 8, 4, 2 with dims 48, 96, 192 (~1.3M params)
_reg("mvitv2_cifar", "mvitv2",
     dict(img_size=32, depths=(2, 3, 2), embed_dim=48, num_heads=1, patch_kernel=(4, 4), patch_stride=(4, 4),
          patch_padding=(0, 0), stride_q=((1, 1), (2, 2), (2, 2)), stride_kv_adaptive=(1, 1), num_classes=10),
     _cifar_cfg(), timm_name=None)

# --------------------------------------------------------------------------------------------- NesT
_reg("nest_tiny", "nest", dict(img_size=224, embed_dims=(96, 192, 384), num_heads=(3, 6, 12), depths=(2, 2, 8)),
     _imagenet_cfg(0.875))
_reg("nest_small", "nest", dict(img_size=224, embed_dims=(96, 192, 384), num_heads=(3, 6, 12), depths=(2, 2, 20)),
     _imagenet_cfg(0.875))
_reg("nest_base", "nest", dict(img_size=224, embed_dims=(128, 256, 512), num_heads=(4, 8, 16), depths=(2, 2, 20)),
     _imagenet_cfg(0.875))
# compact: 4x4 patches -> 8x8 grid, 2 levels of 4x4-token blocks (4, 1 blocks) (~0.8M params)
_reg("nest_cifar", "nest",
     dict(img_size=32, patch_size=4, num_levels=2, embed_dims=(64, 128), num_heads=(2, 4), depths=(2, 3),
          num_classes=10),
     _cifar_cfg(), timm_name=None)

CIFAR_MODELS = ("convmixer_cifar", "vit_cifar", "swin_cifar", "mvitv2_cifar", "nest_cifar")


def list_models(family: str = None, include_cifar: bool = True) -> List[str]:
    out = []
    for name, spec in _REGISTRY.items():
        if family and spec.family != family and not (family == "vit" and spec.family == "deit"):
            continue
        if not include_cifar and name in CIFAR_MODELS:
            continue
        out.append(name)
    return out


def get_spec(name: str) -> ModelSpec:
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def model_class(family: str) -> type:
    mod_name, cls_name = _FAMILY_MODULE[family]
    mod = importlib.import_module(f"{__package__}.{mod_name}")
    return getattr(mod, cls_name)


def model_kwargs(name: str, **overrides) -> Dict[str, Any]:
    spec = get_spec(name)
    kw = dict(spec.kwargs)
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return kw


def create_model(name: str, **overrides) -> torch.nn.Module:
    """Build a zoo model by name. ``overrides`` replace the registered hyper-parameters
    (``num_classes``, ``img_size``, ``in_chans``, dims ...). Returns the model in train mode
    (call ``.eval()`` for inference / export)."""
    spec = get_spec(name)
    model = model_class(spec.family)(**model_kwargs(name, **overrides))
    model.zoo_name = name
    model.zoo_family = spec.family
    return model


def default_cfg(name: str, **overrides) -> Dict[str, Any]:
    """Preprocessing cfg of a variant; ``img_size``/``num_classes`` overrides are reflected."""
    cfg = dict(get_spec(name).cfg)
    if overrides.get("img_size"):
        cfg["input_size"] = int(overrides["img_size"])
    if overrides.get("num_classes"):
        cfg["num_classes"] = int(overrides["num_classes"])
    return cfg


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Construct modules on the meta device (no memory, no init cost): shapes only.

    torch>=2.0 has ``with torch.device('meta')``; torch 1.13 gets an equivalent
    TorchFunctionMode that injects ``device='meta'`` into tensor factories."""
    if hasattr(torch.device("meta"), "__enter__"):
        with torch.device("meta"):
            yield
        return
    from torch.overrides import TorchFunctionMode

    factories = {torch.empty, torch.zeros, torch.ones, torch.randn, torch.rand, torch.full, torch.arange,
                 torch.linspace, torch.tensor, torch.empty_like, torch.zeros_like, torch.ones_like, torch.eye}

    class _Meta(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            if func in factories and kwargs.get("device") is None:
                kwargs["device"] = "meta"
            return func(*args, **kwargs)

    with _Meta():
        yield


def create_model_meta(name: str, **overrides) -> torch.nn.Module:
    """``create_model`` on the meta device (for parameter / GMAC counting of large variants)."""
    with meta_device():
        return create_model(name, **overrides)


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def builder_for(name: str) -> Callable[..., torch.nn.Module]:
    return lambda **kw: create_model(name, **kw)
