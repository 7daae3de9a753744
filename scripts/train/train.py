"""Train one compact CIFAR-10 model on the project's training split.

    /usr/bin/python3 -m scripts.train.train --id convmixer-cifar10 [--budget-min 60] [--epochs 200]

Writes .cache/train/<id>/{checkpoint.pth, record.json, log.jsonl}. ``scripts.train.release`` then
exports ONNX (fp32 + int8), the manifest and the parity fixtures into models/<id>/.

Recipe: AdamW, label smoothing 0.1, random crop (4 px reflect padding) + horizontal flip, CutMix
on a recipe's share of the batches (``cutmix``: 0 = never), linear warm-up then cosine decay
driven by max(step fraction, elapsed-time fraction), so the run ends within its wall-clock
budget. Uses CUDA automatically when present.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..zoo.layers import CIFAR10_MEAN, CIFAR10_STD
from ..zoo.registry import count_params, create_model
from . import data as cifar
from .command import reproduce
from .recipes import RECIPES, stage_input_size, stage_recipe

OUT_ROOT = os.path.join(cifar.REPO, ".cache", "train")
AUGMENTATION = "random crop 32 from 4px reflect padding, horizontal flip; label smoothing 0.1"


def augmentation(cutmix: float, teacher: str | None = None, weight: float = 0.0, input_size: int = 32) -> str:
    return (AUGMENTATION + (f"; upscaled to {input_size} px (bilinear)" if input_size != 32 else "") + (f"; CutMix (alpha 1) on {cutmix:.0%} of batches" if cutmix else "")
            + (f"; hard-label distillation from {teacher} (weight {weight})" if teacher else ""))


def memory_format(recipe: dict) -> torch.memory_format:
    """channels_last where the recipe asks for it: ConvMixer's depthwise convs run faster so on CPU."""
    return torch.channels_last if recipe.get("channels_last") else torch.contiguous_format


def normalize(x_u8: torch.Tensor) -> torch.Tensor:
    """[N,32,32,3] uint8 -> [N,3,32,32] float, exactly as the manifest's preprocessing."""
    x = x_u8.permute(0, 3, 1, 2).float() * (1 / 255)
    mean = torch.tensor(CIFAR10_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def upscale(x: torch.Tensor, size: int) -> torch.Tensor:
    """[N,3,32,32] float -> [N,3,size,size] by half-pixel bilinear interpolation: the training-time
    twin of model_input's Pillow resize (the same filter, without its rounding to 8 bits)."""
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def model_input(x_u8: np.ndarray, size: int = 32) -> torch.Tensor:
    """[N,32,32,3] uint8 -> [N,3,size,size] float, bit for bit what the Worker feeds the model for
    these images: a `resize: direct` bilinear Pillow resize (src/preprocess/resample.ts reproduces
    Pillow's) when the manifest asks for more than 32 px, then normalize."""
    if x_u8.shape[1] != size:
        from PIL import Image
        x_u8 = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in x_u8])
    return normalize(torch.from_numpy(np.ascontiguousarray(x_u8)))


def build_model(recipe: dict, input_size: int | None = None) -> torch.nn.Module:
    """The recipe's zoo model for its input size (ViT's position embeddings are sized by it; a state
    dict made at another size is resampled as it loads)."""
    return create_model(recipe["model"], img_size=input_size or stage_input_size(recipe))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 32x32 crop of the reflect-padded batch + random horizontal flip ([N,3,32,32] float)."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(32)).to(x.device)  # [n,32]
    cols = (dx.view(n, 1) + torch.arange(32)).to(x.device)
    flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    cols = torch.where(flip.view(n, 1), cols.flip(1), cols)
    idx_n = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    idx_c = torch.arange(3, device=x.device).view(1, 3, 1, 1)
    return padded[idx_n, idx_c, rows.view(n, 1, 32, 1), cols.view(n, 1, 1, 32)]


def cutmix(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
    """Paste a random box of a shuffled copy of the batch into it (CutMix, alpha 1).

    -> (mixed x, y, y of the pasted images, lam = share of each image still its own). The box is
    clipped at the borders, so lam is recomputed from the pasted area as the paper does.
    """
    n, _, h, w = x.shape
    lam = float(torch.rand(1, generator=gen))
    bh, bw = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
    cy, cx = int(torch.randint(0, h, (1,), generator=gen)), int(torch.randint(0, w, (1,), generator=gen))
    y0, y1 = max(cy - bh // 2, 0), min(cy + bh // 2, h)
    x0, x1 = max(cx - bw // 2, 0), min(cx + bw // 2, w)
    other = torch.randperm(n, generator=gen).to(x.device)
    x = x.clone()
    x[:, :, y0:y1, x0:x1] = x[other, :, y0:y1, x0:x1]
    return x, y, y[other], 1 - (y1 - y0) * (x1 - x0) / (h * w)


def mixed_loss(logits: torch.Tensor, y: torch.Tensor, y_other: torch.Tensor, lam: float) -> torch.Tensor:
    loss = F.cross_entropy(logits, y, label_smoothing=0.1)
    if lam >= 1.0:
        return loss
    return lam * loss + (1 - lam) * F.cross_entropy(logits, y_other, label_smoothing=0.1)


def load_teacher(teacher_id: str, device):
    """The shipped fp32 weights of another model (its committed ONNX), frozen, for distillation.

    From the ONNX rather than a training checkpoint so that any clone distils from the same teacher.
    It takes the student's 32 px crops, upscaled to the size it is served at.
    """
    from .restore import shipped_manifest, shipped_model  # restore imports this module
    manifest = shipped_manifest(teacher_id)
    model = shipped_model(teacher_id)
    fmt = memory_format(RECIPES[teacher_id])
    model = model.to(device).to(memory_format=fmt).eval().requires_grad_(False)
    size = manifest["preprocess"]["size"]

    @torch.inference_mode()
    def logits(x: torch.Tensor) -> torch.Tensor:
        return model(upscale(x, size).contiguous(memory_format=fmt))
    return logits, f"{teacher_id} {manifest['version']}"


def distilled_loss(logits: torch.Tensor, label_loss: torch.Tensor, teacher_logits: torch.Tensor, weight: float) -> torch.Tensor:
    """DeiT's hard-label distillation: the teacher's top-1 on the very (cropped, flipped, CutMix'd)
    images the student sees is a second target beside the true labels."""
    return (1 - weight) * label_loss + weight * F.cross_entropy(logits, teacher_logits.argmax(1), label_smoothing=0.1)


@torch.no_grad()
def evaluate(model, x_u8: np.ndarray, y: np.ndarray, device, batch: int = 500, input_size: int = 32) -> dict:
    model.eval()
    top1 = top5 = 0
    for i in range(0, len(x_u8), batch):
        xb = model_input(x_u8[i:i + batch], input_size).to(device)
        logits = model(xb)
        t5 = logits.topk(5, dim=1).indices.cpu()
        yb = torch.from_numpy(y[i:i + batch])
        top1 += int((t5[:, 0] == yb).sum())
        top5 += int((t5 == yb.view(-1, 1)).any(1).sum())
    model.train()
    return {"top1": top1 / len(y), "top5": top5 / len(y)}


def lr_at(progress: float, base: float, warmup: float = 0.03) -> float:
    if progress < warmup:
        return base * progress / warmup
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads"


def train(model_id: str, budget_min: float, epochs: int, threads: int, seed: int, log=print, resume: bool = False,
          lr: float | None = None, teacher: str | None = None, distill: float | None = None,
          cutmix_share: float | None = None, input_size: int | None = None) -> dict:
    # --lr: a different peak learning rate, e.g. a gentler warm restart of a converged model.
    # --teacher: distil one stage (typically a warm restart) without changing the from-scratch recipe.
    # --cutmix: add CutMix to a stage once a model starts to overfit the plain recipe.
    r = stage_recipe(model_id, lr=lr, teacher=teacher, distill=distill, cutmix=cutmix_share, input_size=input_size)
    size = stage_input_size(r)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = cifar.load()
    model = build_model(r).to(device).train()
    out = os.path.join(OUT_ROOT, model_id)
    previous = None
    if resume:
        # A warm restart: the last run's weights, a fresh warm-up + cosine cycle over the new budget.
        model.load_state_dict(torch.load(os.path.join(out, "checkpoint.pth"), map_location="cpu"))
        with open(os.path.join(out, "record.json")) as f:
            previous = json.load(f)["training"]
    fmt = memory_format(r)
    model = model.to(memory_format=fmt)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "pos_embed" not in n and "token" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "pos_embed" not in n and "token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": r["wd"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=r["lr"])
    teacher_logits, teacher_name = load_teacher(r["teacher"], device) if r.get("teacher") else (None, None)
    x_train = torch.from_numpy(d["x_train"]).to(device)
    y_train = torch.from_numpy(d["y_train"]).to(device)
    n, bs = len(x_train), r["batch"]
    steps_per_epoch = n // bs
    total_steps = steps_per_epoch * epochs
    gen = torch.Generator().manual_seed(seed + (1 if resume else 0))
    os.makedirs(out, exist_ok=True)
    logf = open(os.path.join(out, "log.jsonl"), "a" if resume else "w")
    t0, step, progress, epoch = time.time(), 0, 0.0, 0
    while progress < 1.0:
        perm = torch.randperm(n, generator=gen).to(device)
        seen = correct = 0
        loss_sum = 0.0
        for b in range(steps_per_epoch):
            progress = max(step / total_steps, (time.time() - t0) / (budget_min * 60))
            if progress >= 1.0:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(progress, r["lr"])
            idx = perm[b * bs:(b + 1) * bs]
            xb = augment(normalize(x_train[idx]), gen).contiguous(memory_format=fmt)
            yb = y_train[idx]
            y_other, lam = yb, 1.0
            if r.get("cutmix") and torch.rand(1, generator=gen) < r["cutmix"]:
                xb, yb, y_other, lam = cutmix(xb, yb, gen)
            logits = model(upscale(xb, size))
            loss = mixed_loss(logits, yb, y_other, lam)
            if teacher_logits is not None:
                # clone: an inference-mode tensor may not be saved for backward (cross-entropy keeps its target)
                loss = distilled_loss(logits, loss, teacher_logits(xb).clone(), r["distill"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        epoch += 1
        rec = {"epoch": epoch, "step": step, "progress": round(progress, 4), "elapsed_s": round(time.time() - t0, 1),
               "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1), "lr": opt.param_groups[0]["lr"]}
        if epoch % 5 == 0 or progress >= 1.0:
            rec["holdout"] = evaluate(model, d["x_hold"][::5], d["y_hold"][::5], device, input_size=size)  # 1,000-image peek
        logf.write(json.dumps(rec) + "\n")
        logf.flush()
        log(json.dumps(rec))
    wall = time.time() - t0
    final = evaluate(model, d["x_hold"], d["y_hold"], device, input_size=size)
    model.cpu().eval()
    torch.save(model.state_dict(), os.path.join(out, "checkpoint.pth"))
    record = {
        "id": model_id, "model": r["model"], "input_size": size, "params": count_params(model),
        "metrics": {"dataset": cifar.HOLDOUT_NAME, **final, "measured_by": "PyTorch eager (scripts/train/train.py)"},
        "training": {"epochs": round(step / steps_per_epoch, 2), "steps": step, "batch": bs, "optimizer": "AdamW",
                     "lr": r["lr"], "weight_decay": r["wd"], "schedule": "warm-up 3% + cosine (time-bounded)",
                     "augmentation": augmentation(r.get("cutmix", 0.0), teacher_name, r.get("distill", 0.0), size), "wall_time_s": round(wall, 1), "hardware": hardware(device),
                     "torch": torch.__version__, "seed": seed, "train_images": int(n),
                     "command": reproduce("train", id=model_id, budget_min=budget_min, resume=resume, lr=lr,
                                          teacher=teacher, distill=distill, cutmix=cutmix_share, input_size=input_size)},
    }
    if previous:
        t = record["training"]
        t["stages"] = previous.get("stages", [previous]) + [dict(t)]
        t["epochs"] = round(sum(st["epochs"] for st in t["stages"]), 2)
        t["steps"] = sum(st["steps"] for st in t["stages"])
        t["wall_time_s"] = round(sum(st["wall_time_s"] for st in t["stages"]), 1)
        t["schedule"] = f"{len(t['stages'])} warm restarts of warm-up 3% + cosine (time-bounded)"
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
    log(json.dumps(record))
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m scripts.train.train")
    ap.add_argument("--id", required=True, choices=sorted(RECIPES))
    ap.add_argument("--budget-min", type=float, help="wall-clock budget (default: the recipe's)")
    ap.add_argument("--epochs", type=int, default=200, help="upper bound; the time budget usually ends first")
    ap.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue from .cache/train/<id>/checkpoint.pth (warm restart)")
    ap.add_argument("--lr", type=float, help="peak learning rate instead of the recipe's (e.g. lower for a warm restart)")
    ap.add_argument("--teacher", choices=sorted(RECIPES), help="distil from this shipped model instead of the recipe's teacher")
    ap.add_argument("--distill", type=float, help="weight of the teacher's hard labels (default: the recipe's, else 0.5)")
    ap.add_argument("--cutmix", type=float, help="share of batches CutMix mixes instead of the recipe's (0: none)")
    ap.add_argument("--input-size", type=int, help="train at this input size instead of the recipe's: 32 px images "
                    "upscaled bilinearly, as the Worker does when a manifest asks for more (ViT: position embeddings resampled)")
    a = ap.parse_args(argv)
    if a.teacher == a.id:
        ap.error("a model cannot be its own teacher")
    train(a.id, a.budget_min or RECIPES[a.id]["budget_min"], a.epochs, a.threads, a.seed, resume=a.resume, lr=a.lr,
          teacher=a.teacher, distill=a.distill, cutmix_share=a.cutmix, input_size=a.input_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
