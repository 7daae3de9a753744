"""MViTv2 -- Improved Multiscale Vision Transformers (Li et al. 2022) -- the zoo's own definition.

* overlapping conv patch embedding (7x7 / stride 4 for ImageNet)
* multi-head *pooling* attention: Q, K and V are pooled per head with depthwise 3x3 convs (Q with the
  stage stride in the first block of a stage, K/V with an adaptive stride so the key grid stays small),
  each followed by a LayerNorm over the head dim
* decomposed relative position embeddings: attn[q, k] += <q, R_h[qh, kh]> + <q, R_w[qw, kw]>
* residual pooling connection (the pooled Q is added to the attention output)
* channel expansion in the first block of each stage (``expand_attn``): the attention widens the
  channels, the shortcut is projected with a Linear and max-pooled with the query stride
* final LayerNorm, average over tokens, linear head

Parameter names follow timm's ``MultiScaleVit`` (the ``mvitv2_tiny/small/base`` cfgs: no class token,
``expand_attn=True``, ``pool_first=False``, conv pooling, spatial rel-pos, LayerNorm eps 1e-6):
``patch_embed.proj``, ``stages.{i}.blocks.{j}.norm1``, ``.shortcut_proj_attn``, ``.attn.qkv``,
``.attn.proj``, ``.attn.pool_q/pool_k/pool_v``, ``.attn.norm_q/norm_k/norm_v``, ``.attn.rel_pos_h/w``,
``.norm2``, ``.mlp.fc1/fc2``, ``norm``, ``head.fc``.

The input size is fixed at construction (the relative-position index tables are precomputed for it),
as in timm (``fixed_input_size``). The decomposed rel-pos terms are computed with batched matmuls
rather than einsum (same maths, friendlier ONNX graph).
"""
from __future__ import annotations

from functools import partial
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn

from .layers import Mlp, ZooModel, init_linear_conv, to_2tuple, trunc_normal_


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _rel_index(q: int, k: int) -> torch.Tensor:
    """Index into a rel-pos table for every (query, key) pair along one axis (MViTv2 scaling rule)."""
    q_ratio = max(k / q, 1.0)
    k_ratio = max(q / k, 1.0)
    dist = torch.arange(q).unsqueeze(-1) * q_ratio - torch.arange(k).unsqueeze(0) * k_ratio
    dist = dist + (k - 1) * k_ratio
    return dist.long()


class MultiScaleAttention(nn.Module):
    def __init__(self, dim: int, dim_out: int, feat_size: Tuple[int, int], num_heads: int, qkv_bias: bool = True,
                 kernel: Tuple[int, int] = (3, 3), stride_q: Tuple[int, int] = (1, 1),
                 stride_kv: Tuple[int, int] = (1, 1), residual_pooling: bool = True, norm_layer=nn.LayerNorm):
        super().__init__()
        self.num_heads = num_heads
        self.dim_out = dim_out
        self.head_dim = dim_out // num_heads
        self.scale = self.head_dim ** -0.5
        self.residual_pooling = residual_pooling
        pad = tuple(k // 2 for k in kernel)
        self.qkv = nn.Linear(dim, dim_out * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim_out, dim_out)

        def pool(stride):  # depthwise conv over the head dim, shared by all heads
            if kernel == (1, 1) and tuple(stride) == (1, 1):
                return None, None
            conv = nn.Conv2d(self.head_dim, self.head_dim, kernel, stride=stride, padding=pad,
                             groups=self.head_dim, bias=False)
            return conv, norm_layer(self.head_dim)

        self.pool_q, self.norm_q = pool(stride_q)
        self.pool_k, self.norm_k = pool(stride_kv)
        self.pool_v, self.norm_v = pool(stride_kv)

        # table sizes follow the reference implementation (floor division on the block's input size)
        size = feat_size[0]
        assert feat_size[0] == feat_size[1], "MViTv2 spatial rel-pos needs a square feature map"
        rel_sp_dim = 2 * max(size // stride_q[1], size // stride_kv[1]) - 1
        self.rel_pos_h = nn.Parameter(torch.zeros(rel_sp_dim, self.head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(rel_sp_dim, self.head_dim))
        trunc_normal_(self.rel_pos_h, std=0.02)
        trunc_normal_(self.rel_pos_w, std=0.02)

        # actual pooled grid sizes for this (fixed) input size
        def out_hw(stride, conv):
            if conv is None:
                return tuple(feat_size)
            return tuple(_conv_out(feat_size[i], kernel[i], stride[i], pad[i]) for i in range(2))

        self.feat_size = tuple(feat_size)
        self.q_size = out_hw(stride_q, self.pool_q)
        self.k_size = out_hw(stride_kv, self.pool_k)
        self.register_buffer("rel_idx_h", _rel_index(self.q_size[0], self.k_size[0]), persistent=False)
        self.register_buffer("rel_idx_w", _rel_index(self.q_size[1], self.k_size[1]), persistent=False)

    def _pool(self, x: torch.Tensor, conv, norm) -> torch.Tensor:
        """x: [B, heads, H*W, hd] -> pooled [B, heads, h*w, hd], LayerNorm over hd."""
        if conv is not None:
            h, w = self.feat_size
            x = x.reshape(-1, h, w, self.head_dim).permute(0, 3, 1, 2)
            x = conv(x)
            x = x.reshape(-1, self.num_heads, self.head_dim, x.shape[-2] * x.shape[-1]).transpose(2, 3)
        if norm is not None:
            x = norm(x)
        return x

    def _rel_pos(self, attn: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        (qh, qw), (kh, kw) = self.q_size, self.k_size
        c = self.head_dim
        rh = self.rel_pos_h[self.rel_idx_h]  # qh, kh, c
        rw = self.rel_pos_w[self.rel_idx_w]  # qw, kw, c
        r_q = q.reshape(-1, self.num_heads, qh, qw, c)
        # <q[b, y, h, w], rh[h, k]> for every k  (== einsum "byhwc,hkc->byhwk")
        rel_h = torch.matmul(r_q.permute(2, 0, 1, 3, 4).reshape(qh, -1, c), rh.transpose(1, 2))
        rel_h = rel_h.reshape(qh, -1, self.num_heads, qw, kh).permute(1, 2, 0, 3, 4)
        # <q[b, y, h, w], rw[w, k]> for every k  (== einsum "byhwc,wkc->byhwk")
        rel_w = torch.matmul(r_q.permute(3, 0, 1, 2, 4).reshape(qw, -1, c), rw.transpose(1, 2))
        rel_w = rel_w.reshape(qw, -1, self.num_heads, qh, kw).permute(1, 2, 3, 0, 4)
        attn = attn.reshape(-1, self.num_heads, qh, qw, kh, kw) + rel_h.unsqueeze(-1) + rel_w.unsqueeze(-2)
        return attn.reshape(-1, self.num_heads, qh * qw, kh * kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = self._pool(q, self.pool_q, self.norm_q)
        k = self._pool(k, self.pool_k, self.norm_k)
        v = self._pool(v, self.pool_v, self.norm_v)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = self._rel_pos(attn, q)
        attn = attn.softmax(dim=-1)
        x = attn @ v
        if self.residual_pooling:
            x = x + q
        x = x.transpose(1, 2).reshape(b, -1, self.dim_out)
        return self.proj(x)


class MultiScaleBlock(nn.Module):
    def __init__(self, dim, dim_out, num_heads, feat_size, mlp_ratio=4.0, qkv_bias=True, kernel=(3, 3),
                 stride_q=(1, 1), stride_kv=(1, 1), residual_pooling=True, norm_layer=nn.LayerNorm):
        super().__init__()
        self.feat_size = tuple(feat_size)
        self.norm1 = norm_layer(dim)
        self.shortcut_proj_attn = nn.Linear(dim, dim_out) if dim != dim_out else None
        if stride_q[0] * stride_q[1] > 1:
            k_skip = [s + 1 if s > 1 else s for s in stride_q]
            self.shortcut_pool_attn = nn.MaxPool2d(k_skip, stride_q, [k // 2 for k in k_skip])
        else:
            self.shortcut_pool_attn = None
        self.attn = MultiScaleAttention(dim, dim_out, feat_size, num_heads, qkv_bias, kernel, stride_q, stride_kv,
                                        residual_pooling, norm_layer)
        self.out_size = self.attn.q_size
        self.norm2 = norm_layer(dim_out)
        self.mlp = Mlp(dim_out, int(dim_out * mlp_ratio), dim_out)

    def _shortcut_pool(self, x):
        if self.shortcut_pool_attn is None:
            return x
        b, n, c = x.shape
        h, w = self.feat_size
        x = x.transpose(1, 2).reshape(b, c, h, w)
        x = self.shortcut_pool_attn(x)
        return x.reshape(b, c, -1).transpose(1, 2)

    def forward(self, x):
        x_norm = self.norm1(x)
        # as in the reference implementation: without a projection the shortcut is the un-normalised input
        shortcut = x if self.shortcut_proj_attn is None else self.shortcut_proj_attn(x_norm)
        x = self._shortcut_pool(shortcut) + self.attn(x_norm)
        return x + self.mlp(self.norm2(x))


class MultiScaleVitStage(nn.Module):
    def __init__(self, dim, dim_out, depth, num_heads, feat_size, mlp_ratio, qkv_bias, kernel, stride_q, stride_kv,
                 residual_pooling, norm_layer):
        super().__init__()
        self.blocks = nn.ModuleList()
        for i in range(depth):
            blk = MultiScaleBlock(dim if i == 0 else dim_out, dim_out, num_heads, feat_size, mlp_ratio, qkv_bias,
                                  kernel, stride_q if i == 0 else (1, 1), stride_kv, residual_pooling, norm_layer)
            self.blocks.append(blk)
            feat_size = blk.out_size
        self.feat_size = tuple(feat_size)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x


class MultiScaleVit(ZooModel):
    family = "mvitv2"

    def __init__(
        self,
        img_size: int = 224,
        in_chans: int = 3,
        num_classes: int = 1000,
        depths: Sequence[int] = (2, 3, 16, 3),
        embed_dim: int = 96,
        num_heads: int = 1,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        kernel_qkv: Tuple[int, int] = (3, 3),
        stride_q: Sequence[Tuple[int, int]] = ((1, 1), (2, 2), (2, 2), (2, 2)),
        stride_kv_adaptive: Tuple[int, int] = (4, 4),
        patch_kernel: Tuple[int, int] = (7, 7),
        patch_stride: Tuple[int, int] = (4, 4),
        patch_padding: Tuple[int, int] = (3, 3),
        residual_pooling: bool = True,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        n = len(depths)
        assert len(stride_q) == n, "one query stride per stage"
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        dims = [embed_dim * 2 ** i for i in range(n)] if isinstance(embed_dim, int) else list(embed_dim)
        heads = [num_heads * 2 ** i for i in range(n)] if isinstance(num_heads, int) else list(num_heads)
        # K/V stride: starts at stride_kv_adaptive and shrinks with every query downsampling (min 1)
        kv, stride_kv = tuple(stride_kv_adaptive), []
        for i in range(n):
            if min(stride_q[i]) > 1:
                kv = tuple(max(kv[d] // stride_q[i][d], 1) for d in range(2))
            stride_kv.append(kv)
        self.num_classes = num_classes
        self.num_features = dims[-1]
        img = to_2tuple(img_size)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_chans, dims[0], kernel_size=patch_kernel, stride=patch_stride,
                                          padding=patch_padding)
        feat = tuple(_conv_out(img[i], patch_kernel[i], patch_stride[i], patch_padding[i]) for i in range(2))
        self.stages = nn.ModuleList()
        in_dim = dims[0]
        for i in range(n):
            st = MultiScaleVitStage(in_dim, dims[i], depths[i], heads[i], feat, mlp_ratio, qkv_bias,
                                    tuple(kernel_qkv), tuple(stride_q[i]), stride_kv[i], residual_pooling, norm_layer)
            self.stages.append(st)
            feat = st.feat_size
            in_dim = dims[i]
        self.norm = norm_layer(self.num_features)
        self.head = nn.Module()
        self.head.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        init_linear_conv(self)

    def forward_features(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        for st in self.stages:
            x = st(x)
        return self.norm(x)  # B, L, C

    def forward_head(self, x, pre_logits: bool = False):
        x = x.mean(dim=1)
        return x if pre_logits else self.head.fc(x)


__all__: List[str] = ["MultiScaleVit"]
