"""edge-vit model zoo: the project's own PyTorch definitions of ViT/DeiT, Swin, MViTv2, NesT and ConvMixer.

Parameter names/shapes follow timm's state_dicts for the same model names, so timm checkpoints load with
``strict=True``. See docs/zoo.md.
"""
from .registry import CIFAR_MODELS, count_params, create_model, create_model_meta, default_cfg, get_spec, list_models

__all__ = ["CIFAR_MODELS", "count_params", "create_model", "create_model_meta", "default_cfg", "get_spec",
           "list_models"]
