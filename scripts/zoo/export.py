"""Export a zoo model to ONNX + manifest.json (docs/manifest.md).

    python3 -m scripts.zoo.export --model <name> [--checkpoint file.pth|.safetensors] [--num-classes N]
        [--img-size S] --out <dir> [--id ID] [--labels labels.json] [--fp16] [--tier edge|heavy]
        [--source TEXT] [--seed N] [--no-verify]

* ONNX opset 17 through the legacy TorchScript exporter (``dynamo=False`` on torch 2.x), input
  ``pixel_values`` [N, 3, S, S] float32, outputs ``logits`` and ``embedding``, dynamic batch axis.
* ``--fp16`` converts the exported graph to float16 (weights, activations, input and outputs), for the
  GPU/heavy tier. The manifest then says ``precision: fp16`` and ``input.dtype: float16``.
* The graph is checked with ``onnx.checker`` (full check + strict shape inference), then run on a random
  batch and compared with the PyTorch model: with the ``onnxruntime`` Python package where installed,
  else with onnxruntime-web in Node (scripts/zoo/ort_run.mjs, the Worker's own runtime). If neither
  can run it, the export still succeeds and the manifest records ``verification: {"status": "skipped"}``.
* Without ``--checkpoint`` the weights are a seeded random init (``--seed``), and ``source`` says so.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from .checkpoint import CheckpointError, head_num_classes, load_into, load_state_dict
from .layers import ExportWrapper
from .registry import count_params, create_model, default_cfg, get_spec

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CIFAR10_LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class ExportError(RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------- labels
def parse_labels(text: str) -> List[str]:
    """Same formats as scripts/lib/labels.mjs: JSON array, JSON object keyed by index (values a name or
    [synset, name]), "index,name" CSV lines, or one label per line."""
    t = text.strip()
    if t.startswith("[") or t.startswith("{"):
        obj = json.loads(t)
        if isinstance(obj, dict) and "labels" in obj and isinstance(obj["labels"], list):
            obj = obj["labels"]
        if isinstance(obj, list):
            return [str(v) for v in obj]
        items = sorted((int(k), v[-1] if isinstance(v, list) else v) for k, v in obj.items())
        if [k for k, _ in items] != list(range(len(items))):
            raise ExportError("label indices are not contiguous from 0")
        return [str(v) for _, v in items]
    lines = [ln.strip() for ln in t.splitlines() if ln.strip()]
    if lines and all(ln.startswith(f"{i},") for i, ln in enumerate(lines)):
        return [ln.split(",", 1)[1].strip() for ln in lines]
    return lines


def default_labels(kind: str, num_classes: int) -> List[str]:
    if kind == "imagenet" and num_classes == 1000:
        with open(os.path.join(HERE, "imagenet_labels.json")) as f:
            return json.load(f)
    if kind == "cifar10" and num_classes == 10:
        return list(CIFAR10_LABELS)
    return [f"class_{i}" for i in range(num_classes)]


# ----------------------------------------------------------------------------------------------- ONNX
def export_onnx(model: torch.nn.Module, path: str, img_size: int, in_chans: int = 3, batch: int = 2) -> None:
    """fp32 ONNX, opset 17, legacy TorchScript exporter, dynamic batch."""
    wrapper = ExportWrapper(model).eval()
    x = torch.randn(batch, in_chans, img_size, img_size)
    kwargs: Dict[str, Any] = dict(
        input_names=["pixel_values"], output_names=["logits", "embedding"],
        dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch>=2.5: force the legacy TorchScript exporter
    with torch.no_grad():
        torch.onnx.export(wrapper, (x,), path, **kwargs)


def check_onnx(path: str) -> None:
    import onnx

    onnx.checker.check_model(path, full_check=True)
    m = onnx.load(path)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    ins = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    outs = [o.name for o in m.graph.output]
    if ins != ["pixel_values"] or outs != ["logits", "embedding"]:
        raise ExportError(f"unexpected graph I/O: inputs {ins}, outputs {outs}")
    opsets = {o.domain: o.version for o in m.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != OPSET:
        raise ExportError(f"unexpected opset {opsets}")


def convert_fp16(src: str, dst: str) -> None:
    """float32 -> float16 for every float tensor in the graph (initializers, constants, casts, I/O).

    Inputs that ONNX requires to stay float32 (Resize scales) are left alone."""
    import onnx
    from onnx import TensorProto, numpy_helper

    m = onnx.load(src)
    g = m.graph
    keep_f32 = set()
    for node in g.node:
        if node.op_type == "Resize" and len(node.input) > 2 and node.input[2]:
            keep_f32.add(node.input[2])

    def to16(t):
        arr = numpy_helper.to_array(t)
        arr = np.clip(arr, -65504, 65504).astype(np.float16)
        new = numpy_helper.from_array(arr, t.name)
        t.CopyFrom(new)

    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in keep_f32:
            to16(init)
    for node in g.node:
        if node.op_type == "Cast":
            for a in node.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                if node.op_type == "Constant" and node.output[0] in keep_f32:
                    continue
                to16(a.t)
    for vi in list(g.input) + list(g.output):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    del g.value_info[:]
    onnx.save(m, dst)


# ----------------------------------------------------------------------------------------------- verify
def _node_ort_available() -> bool:
    return shutil.which("node") is not None and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-web"))


def run_onnx(path: str, x: np.ndarray, fp16: bool) -> Dict[str, np.ndarray]:
    """Run the graph on x (float32 array); returns float32 outputs. Raises ExportError if no runtime."""
    xin = x.astype(np.float16) if fp16 else x.astype(np.float32)
    try:
        import onnxruntime as ort  # type: ignore
    except ImportError:
        ort = None
    if ort is not None:
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        sess = ort.InferenceSession(path, providers=providers)
        names = [o.name for o in sess.get_outputs()]
        outs = sess.run(names, {"pixel_values": xin})
        return {n: np.asarray(o, dtype=np.float32) for n, o in zip(names, outs)}
    if not _node_ort_available():
        raise ExportError("no ONNX runtime available (pip onnxruntime or node + onnxruntime-web)")
    with tempfile.TemporaryDirectory() as td:
        inp = os.path.join(td, "in.bin")
        with open(inp, "wb") as f:
            f.write(xin.view(np.uint16).tobytes() if fp16 else xin.tobytes())
        dims = ",".join(str(d) for d in x.shape)
        r = subprocess.run(["node", os.path.join(HERE, "ort_run.mjs"), os.path.abspath(path), inp, dims, td],
                           cwd=REPO, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise ExportError(f"onnxruntime-web failed: {r.stderr.strip()[-800:]}")
        with open(os.path.join(td, "outputs.json")) as f:
            info = json.load(f)
        return {n: np.fromfile(os.path.join(td, f"{n}.bin"), dtype=np.float32).reshape(v["dims"])
                for n, v in info.items()}


def verify_against_torch(model: torch.nn.Module, onnx_path: str, img_size: int, fp16: bool, batch: int = 3,
                         seed: int = 0) -> Dict[str, Any]:
    """Compare ONNX outputs with PyTorch fp32 on a random batch (batch != export batch -> checks the
    dynamic axis). Returns a verification record; raises ExportError on a mismatch."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, img_size, img_size, generator=g)
    with torch.no_grad():
        logits, emb = ExportWrapper(model).eval()(x)
    try:
        outs = run_onnx(onnx_path, x.numpy(), fp16)
    except ExportError as e:
        return {"status": "skipped", "reason": str(e)}
    runtime = "onnxruntime" if _has_py_ort() else "onnxruntime-web (node)"
    rec: Dict[str, Any] = {"status": "ok", "runtime": runtime, "batch": batch}
    for name, ref in (("logits", logits.numpy()), ("embedding", emb.numpy())):
        got = outs[name]
        if got.shape != ref.shape:
            raise ExportError(f"{name}: ONNX shape {got.shape} != torch {ref.shape}")
        diff = float(np.max(np.abs(got - ref)))
        scale = float(np.max(np.abs(ref))) or 1.0
        rec[f"{name}_max_abs_diff"] = diff
        rec[f"{name}_rel_diff"] = diff / scale
        tol = 2e-2 if fp16 else 1e-3  # relative to the output's magnitude
        if diff / scale > tol:
            raise ExportError(f"{name}: ONNX vs torch max abs diff {diff:.3g} (scale {scale:.3g}) exceeds {tol}")
    top_t = logits.argmax(-1).numpy()
    top_o = outs["logits"].argmax(-1)
    rec["top1_agree"] = float(np.mean(top_t == top_o))
    return rec


def _has_py_ort() -> bool:
    try:
        import onnxruntime  # type: ignore  # noqa: F401
        return True
    except ImportError:
        return False


# ----------------------------------------------------------------------------------------------- manifest
def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_manifest(*, model_id: str, name: str, onnx_file: str, onnx_path: str, fp16: bool, cfg: Dict[str, Any],
                   labels: Sequence[str], embedding_dim: int, params: int, tier: str, source: str,
                   license_: str = "Apache-2.0", extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    spec = get_spec(name)
    m: Dict[str, Any] = {
        "id": model_id,
        "family": spec.family,
        "variant": name,
        "version": "1.0.0",
        "tier": tier,
        "onnx": {"key": f"models/{model_id}/{onnx_file}", "sha256": sha256_file(onnx_path),
                 "bytes": os.path.getsize(onnx_path), "precision": "fp16" if fp16 else "fp32"},
        "input": {"name": "pixel_values", "dtype": "float16" if fp16 else "float32", "layout": "NCHW"},
        "outputs": {"logits": "logits", "embedding": "embedding", "kind": "logits"},
        "preprocess": {
            "size": int(cfg["input_size"]),
            "resize": cfg.get("resize", "shortest_edge"),
            "crop_pct": float(cfg["crop_pct"]),
            "interpolation": cfg["interpolation"],
            "channel_order": "RGB",
            "scale": 1 / 255,
            "mean": [float(v) for v in cfg["mean"]],
            "std": [float(v) for v in cfg["std"]],
        },
        "labels": list(labels),
        "embedding_dim": int(embedding_dim),
        "params": int(params),
        "source": source,
        "license": license_,
    }
    if extra:
        m.update(extra)
    return m


# ----------------------------------------------------------------------------------------------- main entry
def export_model(name: str, out_dir: str, checkpoint: Optional[str] = None, num_classes: Optional[int] = None,
                 img_size: Optional[int] = None, model_id: Optional[str] = None, labels_path: Optional[str] = None,
                 fp16: bool = False, tier: str = "edge", source: Optional[str] = None, seed: int = 0,
                 verify: bool = True, state_dict: Optional[Dict[str, torch.Tensor]] = None,
                 log=print) -> Dict[str, Any]:
    spec = get_spec(name)
    t0 = time.time()
    sd = state_dict
    if sd is None and checkpoint:
        sd = load_state_dict(checkpoint)
    if sd is not None and num_classes is None:
        num_classes = head_num_classes(sd)
    overrides = {"num_classes": num_classes, "img_size": img_size}
    cfg = default_cfg(name, **overrides)
    size = int(cfg["input_size"])
    torch.manual_seed(seed)
    model = create_model(name, **overrides).eval()
    if sd is not None:
        load_into(model, sd)
        src = source or f"{os.path.basename(checkpoint) if checkpoint else 'state_dict'} loaded strictly into " \
                        f"scripts/zoo {name}"
    else:
        src = source or f"scripts/zoo {name}, seeded random init (seed {seed}); no pretrained weights"
    n_classes = model.num_classes
    if labels_path:
        with open(labels_path, encoding="utf-8") as f:
            labels = parse_labels(f.read())
    else:
        labels = default_labels(cfg.get("labels", ""), n_classes)
    if len(labels) != n_classes:
        raise ExportError(f"{len(labels)} labels for a {n_classes}-class head")

    model_id = model_id or name.replace("_", "-")
    os.makedirs(out_dir, exist_ok=True)
    onnx_file = "model_fp16.onnx" if fp16 else "model.onnx"
    onnx_path = os.path.join(out_dir, onnx_file)
    tmp32 = onnx_path + ".fp32.tmp" if fp16 else onnx_path
    export_onnx(model, tmp32, size)
    if fp16:
        convert_fp16(tmp32, onnx_path)
        os.remove(tmp32)
    check_onnx(onnx_path)
    rec = verify_against_torch(model, onnx_path, size, fp16, seed=seed) if verify else {"status": "skipped",
                                                                                       "reason": "--no-verify"}
    manifest = build_manifest(model_id=model_id, name=name, onnx_file=onnx_file, onnx_path=onnx_path, fp16=fp16,
                              cfg=cfg, labels=labels, embedding_dim=model.num_features, params=count_params(model),
                              tier=tier, source=src, extra={"verification": rec})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    log(f"exported {name} -> {onnx_path} ({manifest['onnx']['bytes'] / 1e6:.1f} MB, "
        f"{'fp16' if fp16 else 'fp32'}) in {time.time() - t0:.1f}s; verification: "
        + json.dumps(rec))
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.zoo.export", description="Export a zoo model to ONNX")
    ap.add_argument("--model", required=True, help="zoo variant name (python3 -m scripts.zoo.flops lists them)")
    ap.add_argument("--checkpoint", help=".pth/.pt/.bin (torch) or .safetensors state_dict (timm layout)")
    ap.add_argument("--num-classes", type=int, help="classifier size (default: from the checkpoint, else variant)")
    ap.add_argument("--img-size", type=int, help="square input side (default: the variant's)")
    ap.add_argument("--out", required=True, help="output directory (model.onnx + manifest.json)")
    ap.add_argument("--id", dest="model_id", help="manifest id (default: variant name with '-')")
    ap.add_argument("--labels", help="labels file (JSON list/object, CSV 'i,name' or one per line)")
    ap.add_argument("--fp16", action="store_true", help="write a float16 graph (GPU tier)")
    ap.add_argument("--tier", choices=("edge", "heavy"), default="edge")
    ap.add_argument("--source", help="manifest 'source' text")
    ap.add_argument("--seed", type=int, default=0, help="init seed when no checkpoint is given")
    ap.add_argument("--no-verify", action="store_true", help="skip running the graph against PyTorch")
    a = ap.parse_args(argv)
    try:
        export_model(a.model, a.out, checkpoint=a.checkpoint, num_classes=a.num_classes, img_size=a.img_size,
                     model_id=a.model_id, labels_path=a.labels, fp16=a.fp16, tier=a.tier, source=a.source,
                     seed=a.seed, verify=not a.no_verify)
    except (ExportError, CheckpointError, KeyError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
