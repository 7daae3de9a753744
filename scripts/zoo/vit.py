"""Vision Transformer (Dosovitskiy et al. 2021) and DeiT (Touvron et al. 2021) -- the zoo's own definition.

* strided-conv patch embedding, class token (+ DeiT distillation token), learned 1D position
  embeddings, pre-norm blocks (MHSA + GELU MLP), final LayerNorm, head on the class token.
* Position embeddings are sized for ``img_size`` at construction; a state_dict made for another size
  is resampled bicubically when loaded (prefix tokens are kept as-is), so a 224 checkpoint loads with
  ``strict=True`` into a 384 (or 32) model.
* Parameter names follow timm's ``VisionTransformer`` / ``VisionTransformerDistilled``:
  ``patch_embed.proj``, ``cls_token``, ``dist_token``, ``pos_embed``, ``blocks.{i}.norm1``,
  ``blocks.{i}.attn.qkv``, ``blocks.{i}.attn.proj``, ``blocks.{i}.norm2``, ``blocks.{i}.mlp.fc1/fc2``,
  ``norm``, ``head``, ``head_dist``.

Embedding (``forward_head(x, pre_logits=True)``): the final-normed class token; for the distilled
DeiT variant the mean of the class and distillation tokens, as timm's ``pre_logits`` does. Logits of
the distilled variant are the mean of ``head(cls)`` and ``head_dist(dist)`` (DeiT inference rule).
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn

from .layers import Mlp, ZooModel, init_linear_conv, resample_grid_embed, square_side, to_2tuple, trunc_normal_


class PatchEmbed(nn.Module):
    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768):
        super().__init__()
        self.img_size = to_2tuple(img_size)
        self.patch_size = to_2tuple(patch_size)
        self.grid_size = (self.img_size[0] // self.patch_size[0], self.img_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)

    def forward(self, x):
        x = self.proj(x)  # N, C, H', W'
        return x.flatten(2).transpose(1, 2)  # N, L, C


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = True):
        super().__init__()
        assert dim % num_heads == 0, "dim must be divisible by num_heads"
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=True, norm_layer=nn.LayerNorm):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class VisionTransformer(ZooModel):
    family = "vit"

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        distilled: bool = False,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        self.num_classes = num_classes
        self.num_features = self.embed_dim = embed_dim
        self.distilled = distilled
        self.num_prefix_tokens = 2 if distilled else 1
        self.family = "deit" if distilled else "vit"

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if distilled else None
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + self.num_prefix_tokens, embed_dim))
        self.blocks = nn.Sequential(*[
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_layer) for _ in range(depth)
        ])
        self.norm = norm_layer(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        if distilled:
            self.head_dist = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self._init_weights()

    def _init_weights(self):
        init_linear_conv(self)
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=1e-6)
        if self.dist_token is not None:
            trunc_normal_(self.dist_token, std=0.02)

    # -- loading: resample position embeddings made for another grid size ------------------------------
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "pos_embed"
        if key in state_dict and state_dict[key].shape != self.pos_embed.shape:
            state_dict[key] = resize_pos_embed(state_dict[key], self.patch_embed.grid_size, self.num_prefix_tokens)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward_features(self, x):
        x = self.patch_embed(x)
        b = x.shape[0]
        tokens = [self.cls_token.expand(b, -1, -1)]
        if self.dist_token is not None:
            tokens.append(self.dist_token.expand(b, -1, -1))
        x = torch.cat(tokens + [x], dim=1) + self.pos_embed
        x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x, pre_logits: bool = False):
        if self.distilled:
            cls, dist = x[:, 0], x[:, 1]
            if pre_logits:
                return (cls + dist) / 2
            return (self.head(cls) + self.head_dist(dist)) / 2
        x = x[:, 0]
        return x if pre_logits else self.head(x)


def resize_pos_embed(posemb: torch.Tensor, new_grid, num_prefix_tokens: int = 1) -> torch.Tensor:
    """Resample [1, P + H*W, C] position embeddings to a new (h, w) grid (bicubic), keeping the P prefix
    (class / distillation) embeddings unchanged."""
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    side = square_side(grid.shape[1])
    grid = resample_grid_embed(grid, (side, side), tuple(new_grid))
    return torch.cat([prefix, grid], dim=1)
