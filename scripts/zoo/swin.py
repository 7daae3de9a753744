"""Swin Transformer (Liu et al. 2021) -- the zoo's own definition.

* patch partition (strided conv + LayerNorm), channels-last feature maps inside the stages
* window multi-head self-attention with a learned relative position bias table
* shifted windows: cyclic shift with ``torch.roll`` plus an attention mask (-100 between tokens that
  came from different image regions), reverse shift afterwards
* patch merging (2x2 neighbourhood concat -> LayerNorm -> Linear 4C->2C) at the start of stages 2..n
* final LayerNorm, global average pool, linear head

Parameter names follow timm >= 0.9 ``SwinTransformer``: ``patch_embed.proj/norm``,
``layers.{i}.downsample.norm/reduction``, ``layers.{i}.blocks.{j}.norm1``,
``...attn.relative_position_bias_table``, ``...attn.qkv``, ``...attn.proj``, ``...norm2``,
``...mlp.fc1/fc2``, ``norm``, ``head.fc``. The relative position index and the attention mask are
non-persistent buffers (not in the state_dict), as in timm.

If a stage's resolution is not larger than the window, the window shrinks to the resolution and the
shift is disabled (timm's rule); resolutions that the window does not divide are zero-padded.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import Mlp, ZooModel, init_linear_conv, to_2tuple, trunc_normal_


def window_partition(x: torch.Tensor, ws: Tuple[int, int]) -> torch.Tensor:
    """[B, H, W, C] -> [B * nW, ws_h * ws_w, C]"""
    b, h, w, c = x.shape
    x = x.view(b, h // ws[0], ws[0], w // ws[1], ws[1], c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, ws[0] * ws[1], c)


def window_reverse(windows: torch.Tensor, ws: Tuple[int, int], h: int, w: int) -> torch.Tensor:
    """[B * nW, ws_h * ws_w, C] -> [B, H, W, C]"""
    c = windows.shape[-1]
    x = windows.view(-1, h // ws[0], w // ws[1], ws[0], ws[1], c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


def relative_position_index(wh: int, ww: int) -> torch.Tensor:
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)  # 2, N
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # N, N, 2
    return (rel[..., 0] + wh - 1) * (2 * ww - 1) + (rel[..., 1] + ww - 1)  # N, N


class WindowAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, window_size: Tuple[int, int], qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.window_size = window_size
        self.window_area = window_size[0] * window_size[1]
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size[0] - 1) * (2 * window_size[1] - 1), num_heads))
        self.register_buffer("relative_position_index", relative_position_index(*window_size), persistent=False)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def rel_pos_bias(self) -> torch.Tensor:
        n = self.window_area
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)].reshape(n, n, -1)
        return bias.permute(2, 0, 1).unsqueeze(0)  # 1, heads, N, N

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1) + self.rel_pos_bias()
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(-1, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(x)


class SwinBlock(nn.Module):
    def __init__(self, dim: int, input_resolution: Tuple[int, int], num_heads: int, window_size: int,
                 shift: bool, mlp_ratio: float = 4.0, qkv_bias: bool = True):
        super().__init__()
        self.input_resolution = input_resolution
        ws = to_2tuple(window_size)
        # timm's rule: a window that covers the whole map is shrunk to it, and then never shifted
        self.window_size = tuple(r if r <= w else w for r, w in zip(input_resolution, ws))
        self.shift_size = tuple(0 if (r <= w or not shift) else w // 2 for r, w in zip(input_resolution, ws))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, num_heads, self.window_size, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.register_buffer("attn_mask", self._make_mask(), persistent=False)

    def _make_mask(self) -> Optional[torch.Tensor]:
        if not any(self.shift_size):
            return None
        (wh, ww), (sh, sw) = self.window_size, self.shift_size
        h = -(-self.input_resolution[0] // wh) * wh
        w = -(-self.input_resolution[1] // ww) * ww
        # label the 3x3 regions that a cyclic shift brings together; tokens may only attend within a region
        img = torch.zeros(1, h, w, 1)
        cnt = 0
        for hs in ((0, h - wh), (h - wh, h - sh), (h - sh, h)):
            for ws_ in ((0, w - ww), (w - ww, w - sw), (w - sw, w)):
                img[:, hs[0]:hs[1], ws_[0]:ws_[1], :] = cnt
                cnt += 1
        win = window_partition(img, self.window_size).squeeze(-1)  # nW, N
        diff = win.unsqueeze(1) - win.unsqueeze(2)
        return torch.where(diff != 0, torch.full_like(diff, -100.0), torch.zeros_like(diff))

    def _attn(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        shifted = any(self.shift_size)
        if shifted:
            x = torch.roll(x, shifts=(-self.shift_size[0], -self.shift_size[1]), dims=(1, 2))
        pad_h = (self.window_size[0] - h % self.window_size[0]) % self.window_size[0]
        pad_w = (self.window_size[1] - w % self.window_size[1]) % self.window_size[1]
        if pad_h or pad_w:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        hp, wp = h + pad_h, w + pad_w
        windows = window_partition(x, self.window_size)
        windows = self.attn(windows, mask=self.attn_mask)
        x = window_reverse(windows, self.window_size, hp, wp)
        if pad_h or pad_w:
            x = x[:, :h, :w, :].contiguous()
        if shifted:
            x = torch.roll(x, shifts=self.shift_size, dims=(1, 2))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: B, H, W, C
        b, h, w, c = x.shape
        x = x + self._attn(self.norm1(x))
        x = x.reshape(b, h * w, c)
        x = x + self.mlp(self.norm2(x))
        return x.reshape(b, h, w, c)


class PatchMerging(nn.Module):
    def __init__(self, dim: int, out_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, H, W, C -> B, H/2, W/2, 2C
        b, h, w, c = x.shape
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
            h, w = h + h % 2, w + w % 2
        # channel order of the 2x2 neighbourhood: (0,0), (1,0), (0,1), (1,1) -- same as the reference impl
        x = x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 4, 2, 5).flatten(3)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    def __init__(self, dim: int, out_dim: int, input_resolution: Tuple[int, int], depth: int, downsample: bool,
                 num_heads: int, window_size: int, mlp_ratio: float, qkv_bias: bool):
        super().__init__()
        self.downsample = PatchMerging(dim, out_dim) if downsample else nn.Identity()
        res = tuple((r + 1) // 2 for r in input_resolution) if downsample else tuple(input_resolution)
        self.output_resolution = res
        self.blocks = nn.Sequential(*[
            SwinBlock(out_dim, res, num_heads, window_size, shift=(i % 2 == 1), mlp_ratio=mlp_ratio,
                      qkv_bias=qkv_bias)
            for i in range(depth)
        ])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class _PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        img_size, patch_size = to_2tuple(img_size), to_2tuple(patch_size)
        self.grid_size = (img_size[0] // patch_size[0], img_size[1] // patch_size[1])
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        return self.norm(self.proj(x).permute(0, 2, 3, 1))  # B, H', W', C


class SwinTransformer(ZooModel):
    family = "swin"

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 4,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
    ):
        super().__init__()
        assert len(depths) == len(num_heads)
        self.num_classes = num_classes
        n = len(depths)
        dims = [int(embed_dim * 2 ** i) for i in range(n)]
        self.num_features = dims[-1]
        self.patch_embed = _PatchEmbed(img_size, patch_size, in_chans, dims[0])
        res = self.patch_embed.grid_size
        layers = []
        in_dim = dims[0]
        for i in range(n):
            stage = SwinStage(in_dim, dims[i], res, depths[i], downsample=i > 0, num_heads=num_heads[i],
                              window_size=window_size, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias)
            layers.append(stage)
            res = stage.output_resolution
            in_dim = dims[i]
        self.layers = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(self.num_features)
        self.head = nn.Module()
        self.head.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        init_linear_conv(self)

    def forward_features(self, x):
        return self.norm(self.layers(self.patch_embed(x)))  # B, H, W, C

    def forward_head(self, x, pre_logits: bool = False):
        x = x.mean(dim=(1, 2))
        return x if pre_logits else self.head.fc(x)
