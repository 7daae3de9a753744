"""Parity check against timm (run where timm is installed; the Debian dev box has no timm).

For every registered variant: build timm's model (named variants: ``timm.create_model(name)``; compact
CIFAR variants: timm's class with the same hyper-parameters), perturb *every* tensor of its state_dict
(random init leaves biases at 0 and BatchNorm stats at 0/1, which would hide mapping mistakes), load the
perturbed state_dict into timm and -- strict -- into ours, and compare logits and pre-logits embeddings
on a random batch (fp32, TF32 off). Also round-trips the state_dict through the real ``safetensors``
package and our reader/writer, and (optionally) exports ONNX and runs it with onnxruntime.

    python3 -m scripts.zoo.check_timm [--out results.json] [--onnx name ...] [--device cuda]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback

import torch

from .checkpoint import load_into, load_safetensors, save_safetensors
from .registry import count_params, create_model, get_spec, list_models


def timm_twin(name: str):
    import timm

    spec = get_spec(name)
    if spec.timm_name:
        return timm.create_model(spec.timm_name, pretrained=False)
    if name == "convmixer_cifar":
        from timm.models.convmixer import ConvMixer
        return ConvMixer(dim=256, depth=8, kernel_size=5, patch_size=2, num_classes=10)
    if name == "vit_cifar":
        from timm.models.vision_transformer import VisionTransformer
        return VisionTransformer(img_size=32, patch_size=4, embed_dim=128, depth=8, num_heads=4, num_classes=10)
    if name == "swin_cifar":
        from timm.models.swin_transformer import SwinTransformer
        return SwinTransformer(img_size=32, patch_size=2, window_size=4, embed_dim=48, depths=(2, 4, 2),
                               num_heads=(3, 6, 12), num_classes=10)
    if name == "nest_cifar":
        from timm.models.nest import Nest
        return Nest(img_size=32, patch_size=2, num_levels=3, embed_dims=(48, 96, 192), num_heads=(3, 6, 12),
                    depths=(2, 2, 3), num_classes=10)
    if name == "mvitv2_cifar":
        from timm.models.mvitv2 import MultiScaleVit, MultiScaleVitCfg
        cfg = MultiScaleVitCfg(depths=(2, 3, 2), embed_dim=48, num_heads=1, patch_kernel=(3, 3),
                               patch_stride=(2, 2), patch_padding=(1, 1), stride_q=((1, 1), (2, 2), (2, 2)),
                               stride_kv_adaptive=(2, 2))
        return MultiScaleVit(cfg=cfg, img_size=32, num_classes=10)
    raise KeyError(name)


def perturb(sd, gen):
    out = {}
    for k, v in sd.items():
        if not v.is_floating_point():
            out[k] = v.clone()
            continue
        noise = torch.randn(v.shape, generator=gen) * 0.02
        # BatchNorm variances must stay positive; everything else just moves off its init value
        out[k] = v + noise.abs() * 10 + 0.5 if k.endswith("running_var") else v + noise
    return out


def check_one(name: str, device: str, gen) -> dict:
    import timm  # noqa: F401

    spec = get_spec(name)
    size = int(spec.cfg["input_size"])
    t0 = time.time()
    tm = timm_twin(name).eval()
    sd = perturb(tm.state_dict(), gen)
    tm.load_state_dict(sd, strict=True)
    ours = create_model(name).eval()
    load_into(ours, sd)  # strict
    rec = {"model": name, "timm": spec.timm_name or type(tm).__name__, "params_ours": count_params(ours),
           "params_timm": sum(p.numel() for p in tm.parameters())}
    tm, ours = tm.to(device), ours.to(device)
    x = torch.randn(2, 3, size, size, generator=gen).to(device)
    with torch.no_grad():
        ft = tm.forward_features(x)
        lt = tm.forward_head(ft)
        et = tm.forward_head(ft, pre_logits=True)
        lo, eo = ours.forward_export(x)
    rec["logits_max_abs_diff"] = float((lt - lo).abs().max())
    rec["embedding_max_abs_diff"] = float((et - eo).abs().max())
    rec["logits_scale"] = float(lt.abs().max())
    rec["top1_agree"] = bool((lt.argmax(-1) == lo.argmax(-1)).all())
    rec["seconds"] = round(time.time() - t0, 1)
    return rec


def safetensors_roundtrip(name: str) -> dict:
    """Real safetensors package <-> our reader/writer, on a timm state_dict."""
    import safetensors.torch as st  # type: ignore

    sd = {k: v.contiguous() for k, v in timm_twin(name).state_dict().items()}
    with tempfile.TemporaryDirectory() as td:
        p1, p2 = os.path.join(td, "lib.safetensors"), os.path.join(td, "ours.safetensors")
        st.save_file(sd, p1)
        ours_read = load_safetensors(p1)
        save_safetensors(sd, p2)
        lib_read = st.load_file(p2)
    ok1 = all(torch.equal(sd[k], ours_read[k]) and sd[k].dtype == ours_read[k].dtype for k in sd)
    ok2 = all(torch.equal(sd[k], lib_read[k]) for k in sd)
    return {"model": name, "ours_reads_lib": ok1 and set(ours_read) == set(sd), "lib_reads_ours": ok2}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--onnx", nargs="*", default=[], help="also export these (fp32 + fp16) and run onnxruntime")
    ap.add_argument("--onnx-dir", default=None)
    a = ap.parse_args(argv)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    import timm

    res = {"torch": torch.__version__, "timm": timm.__version__, "device": a.device, "models": [], "errors": {}}
    try:
        import onnxruntime
        res["onnxruntime"] = onnxruntime.__version__ + " " + ",".join(onnxruntime.get_available_providers())
    except ImportError:
        res["onnxruntime"] = None
    gen = torch.Generator().manual_seed(0)
    names = a.models or list_models()
    print(f"torch {torch.__version__} timm {timm.__version__} device {a.device} ort {res['onnxruntime']}", flush=True)
    for n in names:
        try:
            r = check_one(n, a.device, gen)
            res["models"].append(r)
            print(json.dumps(r), flush=True)
        except Exception as e:  # keep going: report every model
            res["errors"][n] = f"{type(e).__name__}: {e}"
            traceback.print_exc()
    try:
        res["safetensors"] = [safetensors_roundtrip(n) for n in ("convmixer_cifar", "deit_tiny_distilled_patch16_224")]
    except Exception as e:
        res["errors"]["safetensors"] = f"{type(e).__name__}: {e}"
    print(json.dumps(res.get("safetensors")), flush=True)
    if a.onnx:
        from .export import export_model
        res["onnx"] = []
        od = a.onnx_dir or tempfile.mkdtemp()
        for n in a.onnx:
            for fp16 in (False, True):
                try:
                    m = export_model(n, os.path.join(od, n + ("-fp16" if fp16 else "")), fp16=fp16,
                                     log=lambda s: print(s, flush=True))
                    res["onnx"].append({"model": n, "fp16": fp16, "bytes": m["onnx"]["bytes"],
                                        **m["verification"]})
                except Exception as e:
                    res["errors"][f"onnx:{n}:{'fp16' if fp16 else 'fp32'}"] = f"{type(e).__name__}: {e}"
                    traceback.print_exc()
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    bad = [r["model"] for r in res["models"] if r["logits_max_abs_diff"] > 1e-3 * max(1.0, r["logits_scale"])
           or r["params_ours"] != r["params_timm"]]
    print(f"checked {len(res['models'])} models, {len(res['errors'])} errors, mismatches: {bad}", flush=True)
    return 1 if (bad or res["errors"]) else 0


if __name__ == "__main__":
    sys.exit(main())
