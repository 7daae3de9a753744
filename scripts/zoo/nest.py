"""NesT -- Aggregating Nested Transformers (Zhang et al. 2022) -- the zoo's own definition.

* patch embedding (strided conv), then ``num_levels`` hierarchical levels
* each level splits the feature map into non-overlapping blocks (``blockify``), adds a learned
  per-block position embedding, runs local transformer layers independently inside every block,
  and reassembles the map (``deblockify``)
* block aggregation between levels: conv 3x3 -> LayerNorm (channels) -> max-pool 3x3 / stride 2
  (4x fewer blocks per level, same block size)
* final LayerNorm over channels, global average pool, linear head

Parameter names follow timm's ``Nest``: ``patch_embed.proj``, ``levels.{i}.pos_embed``,
``levels.{i}.pool.conv/norm``, ``levels.{i}.transformer_encoder.{j}.norm1/attn.qkv/attn.proj/norm2/
mlp.fc1/mlp.fc2``, ``norm``, ``head``. All LayerNorms use eps=1e-6, like timm's NesT.

Quirk kept for checkpoint compatibility: after attention the heads are merged channel-major
(``(B, heads, T, N, C') -> (B, T, N, C', heads)``), exactly as timm (and the JAX port it mirrors) does.

Position embeddings for another input size are resampled bicubically when a state_dict is loaded.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import Mlp, ZooModel, init_linear_conv, trunc_normal_


def blockify(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """[B, H, W, C] -> [B, T, N, C] with T blocks of N = block_size**2 tokens."""
    b, h, w, c = x.shape
    gh, gw = h // block_size, w // block_size
    x = x.reshape(b, gh, block_size, gw, block_size, c).transpose(2, 3)
    return x.reshape(b, gh * gw, block_size * block_size, c)


def deblockify(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """[B, T, N, C] -> [B, H, W, C] (square grid of square blocks)."""
    b, t, _, c = x.shape
    g = int(round(math.sqrt(t)))
    x = x.reshape(b, g, g, block_size, block_size, c).transpose(2, 3)
    return x.reshape(b, g * block_size, g * block_size, c)


class Attention(nn.Module):
    """Local MHSA over the N tokens of each of the T blocks; x: [B, T, N, C]."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, n, c = x.shape
        qkv = self.qkv(x).reshape(b, t, n, 3, self.num_heads, self.head_dim).permute(3, 0, 4, 1, 2, 5)
        q, k, v = qkv[0], qkv[1], qkv[2]  # B, heads, T, N, C'
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = attn @ v  # B, heads, T, N, C'
        x = x.permute(0, 2, 3, 4, 1).reshape(b, t, n, c)  # channel-major head merge (see module doc)
        return self.proj(x)


class TransformerLayer(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=True, norm_layer=nn.LayerNorm):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ConvPool(nn.Module):
    """Block aggregation: conv 3x3 -> LayerNorm over channels -> max-pool 3x3/2 (NCHW in and out)."""

    def __init__(self, in_channels, out_channels, norm_layer):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=True)
        self.norm = norm_layer(out_channels)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        x = self.conv(x)
        x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.pool(x)


class NestLevel(nn.Module):
    def __init__(self, num_blocks, block_size, seq_length, num_heads, depth, embed_dim, prev_embed_dim=None,
                 mlp_ratio=4.0, qkv_bias=True, norm_layer=nn.LayerNorm):
        super().__init__()
        self.block_size = block_size
        self.pos_embed = nn.Parameter(torch.zeros(1, num_blocks, seq_length, embed_dim))
        self.pool = ConvPool(prev_embed_dim, embed_dim, norm_layer) if prev_embed_dim is not None else nn.Identity()
        self.transformer_encoder = nn.Sequential(*[
            TransformerLayer(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_layer) for _ in range(depth)
        ])

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "pos_embed"
        if key in state_dict and state_dict[key].shape != self.pos_embed.shape:
            state_dict[key] = resize_pos_embed(state_dict[key], self.pos_embed.shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x):  # B, C, H, W
        x = self.pool(x).permute(0, 2, 3, 1)
        x = blockify(x, self.block_size) + self.pos_embed
        x = self.transformer_encoder(x)
        return deblockify(x, self.block_size).permute(0, 3, 1, 2)


def resize_pos_embed(posemb: torch.Tensor, new_shape) -> torch.Tensor:
    """Resample [1, T, N, C] block position embeddings to [1, T', N', C] (bicubic over the full map)."""
    _, t_old, n_old, c = posemb.shape
    _, t_new, n_new, _ = new_shape
    bs_old, bs_new = int(round(math.sqrt(n_old))), int(round(math.sqrt(n_new)))
    side_new = int(round(math.sqrt(t_new))) * bs_new
    grid = deblockify(posemb.float(), bs_old).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(side_new, side_new), mode="bicubic", align_corners=False)
    return blockify(grid.permute(0, 2, 3, 1), bs_new).to(posemb.dtype)


class Nest(ZooModel):
    family = "nest"

    def __init__(
        self,
        img_size: int = 224,
        in_chans: int = 3,
        patch_size: int = 4,
        num_levels: int = 3,
        embed_dims: Sequence[int] = (128, 256, 512),
        num_heads: Sequence[int] = (4, 8, 16),
        depths: Sequence[int] = (2, 2, 20),
        num_classes: int = 1000,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        assert len(embed_dims) == len(num_heads) == len(depths) == num_levels
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        self.num_classes = num_classes
        self.num_features = embed_dims[-1]
        assert img_size % patch_size == 0, "patch_size must divide img_size"
        grid = img_size // patch_size
        self.num_blocks = [4 ** i for i in reversed(range(num_levels))]  # e.g. 16, 4, 1
        blocks_per_side = int(math.sqrt(self.num_blocks[0]))
        assert grid % blocks_per_side == 0, "first-level blocks must tile the patch grid"
        self.block_size = grid // blocks_per_side
        self.seq_length = self.block_size ** 2

        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_chans, embed_dims[0], kernel_size=patch_size, stride=patch_size)
        levels = []
        prev = None
        for i in range(num_levels):
            levels.append(NestLevel(self.num_blocks[i], self.block_size, self.seq_length, num_heads[i], depths[i],
                                    embed_dims[i], prev, mlp_ratio, qkv_bias, norm_layer))
            prev = embed_dims[i]
        self.levels = nn.Sequential(*levels)
        self.norm = norm_layer(embed_dims[-1])
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        init_linear_conv(self)
        for level in self.levels:
            trunc_normal_(level.pos_embed, std=0.02)

    def forward_features(self, x):
        x = self.levels(self.patch_embed.proj(x))
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # B, C, H, W

    def forward_head(self, x, pre_logits: bool = False):
        x = x.mean(dim=(2, 3))
        return x if pre_logits else self.head(x)
