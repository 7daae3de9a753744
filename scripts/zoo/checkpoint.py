"""Checkpoint I/O: PyTorch ``.pth`` and ``.safetensors`` (own minimal reader/writer, no dependency).

safetensors layout: 8-byte little-endian header length N, N bytes of JSON
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}``
(offsets relative to the byte buffer that follows the header), then the raw little-endian tensor bytes.
"""
from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch

_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


class CheckpointError(RuntimeError):
    pass


def load_safetensors(path: str) -> "OrderedDict[str, torch.Tensor]":
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise CheckpointError(f"{path}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > 100_000_000:
        raise CheckpointError(f"{path}: bad safetensors header length {n}")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise CheckpointError(f"{path}: safetensors header is not JSON ({e})") from None
    data = memoryview(raw)[8 + n:]
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {info.get('dtype')!r}")
        begin, end = info["data_offsets"]
        shape = list(info["shape"])
        numel = 1
        for s in shape:
            numel *= int(s)
        itemsize = torch.tensor([], dtype=dtype).element_size()
        if end - begin != numel * itemsize or end > len(data) or begin < 0:
            raise CheckpointError(f"{path}: tensor {name!r} has inconsistent offsets")
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
        out[name] = t
    return out


def save_safetensors(tensors: Mapping[str, torch.Tensor], path: str, metadata: Optional[Dict[str, str]] = None) -> None:
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _ST_NAMES:
            raise CheckpointError(f"cannot store dtype {t.dtype} of {name!r} in safetensors")
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16: ship the raw 16-bit patterns
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # align the data buffer to 8 bytes (as the reference writer does)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def _unwrap(obj) -> Dict[str, torch.Tensor]:
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, Mapping):
        for key in ("state_dict_ema", "model_ema", "state_dict", "model", "module"):
            if key in obj and isinstance(obj[key], Mapping) and obj[key] and not isinstance(obj[key], torch.Tensor):
                inner = obj[key]
                if all(isinstance(v, torch.Tensor) for v in inner.values()):
                    obj = inner
                    break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError("checkpoint does not contain a state_dict of tensors")
    out = OrderedDict()
    for k, v in obj.items():
        if k.startswith("module."):
            k = k[len("module."):]
        out[k] = v
    return out


def load_state_dict(path: str) -> "OrderedDict[str, torch.Tensor]":
    """Read a state_dict from ``.safetensors`` or a torch pickle (``.pth``/``.pt``/``.bin``)."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.endswith(".safetensors"):
        return load_safetensors(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # very old torch without weights_only
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise CheckpointError(f"cannot read {path} as a torch checkpoint: {e}") from None
    return _unwrap(obj)


def save_state_dict(state_dict: Mapping[str, torch.Tensor], path: str) -> None:
    if path.endswith(".safetensors"):
        save_safetensors(state_dict, path)
    else:
        torch.save(OrderedDict(state_dict), path)


def head_num_classes(state_dict: Mapping[str, torch.Tensor]) -> Optional[int]:
    """Number of classes of the classifier stored in a zoo/timm state_dict (None if there is none)."""
    for key in ("head.fc.weight", "head.weight"):
        if key in state_dict and state_dict[key].dim() == 2:
            return int(state_dict[key].shape[0])
    return None


def load_into(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Strict load with a readable error listing missing / unexpected / mismatched keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    # shapes that the model cannot adapt itself (pos_embed resampling is handled in _load_from_state_dict)
    adaptable = ("pos_embed",)
    mismatched = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
                  for k in own if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
                  and not k.endswith(adaptable)]
    if missing or unexpected or mismatched:
        lines = []
        if missing:
            lines.append(f"missing keys ({len(missing)}): {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
        if unexpected:
            lines.append(f"unexpected keys ({len(unexpected)}): {', '.join(unexpected[:8])}"
                         f"{' ...' if len(unexpected) > 8 else ''}")
        if mismatched:
            lines.append(f"shape mismatches ({len(mismatched)}): {'; '.join(mismatched[:6])}")
        raise CheckpointError("checkpoint does not match the model (strict):\n  " + "\n  ".join(lines))
    model.load_state_dict(dict(state_dict), strict=True)
