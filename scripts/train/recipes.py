"""Per-family training recipes for the compact CIFAR-10 models (data, not branches).

``id`` is the served model id; ``model`` the zoo variant (scripts/zoo/registry.py).
``cutmix`` is the share of batches CutMix mixes (0 or absent: none); it pays once a model
overfits the plain crop+flip recipe (NesT's hold-out flattened at 81% from epoch 25 without it;
ConvMixer ended its second cycle at 96.7% on its training batches and 86.2% on the hold-out).
``teacher`` names a shipped model whose top-1 on each augmented batch becomes a second target
(weight ``distill``, else DEFAULT_DISTILL; DeiT's hard-label distillation): NesT plateaued at 84.1% over three restarts
with CutMix alone, the ConvMixer default held 87.7% (1.2.0, the teacher of every distilled stage
shipped before its 1.3.0, which holds 88.0%). The teacher's forward costs about 40% more
per step on 2 cores (MViTv2: 0.60-0.76 s with it, 0.37-0.53 s without; `npm run
bench:train-threads`), so a family far from its plateau
trains without one and gets the epochs instead: MViTv2 trained its first 85 epochs without it and
its third warm restart, at a plateau near 83.5%, with it (83.50% -> 83.86%).
Swin's recipe is its first, 120-minute CutMix stage (78 epochs at ~92 s, 80.9%); its shipped 1.2.0
adds a warm restart distilled through `train --teacher` (82.4%; the teacher doubles Swin's step,
0.25 -> 0.53 s by `npm run bench:train-threads -- --id swin-cifar10 --teacher convmixer-cifar10`), so the recipe itself stays teacher-free.
ViT's recipe carries the teacher from epoch 0 although it is far from any plateau: a plain ViT has no
convolutional prior, which is what DeiT's convnet teacher hands over. It costs 0.82 -> 1.03 s per
ViT step (`npm run bench:train-threads -- --id vit-cifar10`), ~20% fewer epochs; no teacher-free run of
the same length was made, so whether that trade pays for ViT here is unmeasured.
``input_size`` (default 32) is the side a family is trained, exported and served at; larger means the
32 px images are upscaled bilinearly (the Worker's `resize: direct`). No recipe sets it yet: a distilled
CutMix restart of ViT at 48 px (`train --id vit-cifar10 --resume --lr 0.0005 --cutmix 0.5 --input-size 48
--budget-min 105`, 144 tokens of 4x4 patches instead of 64) took the shipped 80.36% to 81.92% from one
view in PyTorch (2026-12-08) but is not released yet; releasing it means `input_size=48` here.
``budget_min`` is wall-clock minutes on this project's 2-core CPU machines: the LR schedule follows
elapsed time, so a run always completes its cosine decay within its budget. On a GPU the
``epochs`` bound ends the run first (pass a larger --epochs for better models).
"""
# Test-time views (scripts/train/views.py) the API serves each family with: every model trained on
# random flips and on crops moved up to 4 px, so mirrored and shifted views are in distribution.
# Each attention family serves the set that both halves of the hold-out pick when each picks alone
# (`python3 -m scripts.train.views_probe --split-check`, 2026-12-07): the mirror plus four diagonal
# shifts of the image and of the mirror (10 forward passes), by 1 px for ViT, MViTv2 and NesT, by 2 px
# for Swin. The default ConvMixer keeps the mirror alone and its 2 passes: its halves disagree, and
# either shift set adds about 0.3 points cross-checked for 5x the compute of every default request.
# README, "Against the goals", has the figures.
FLIP = ["hflip"]


def flip_and_diagonal_shifts(step: int) -> list:
    """The mirror, then the image and its mirror moved by `step` px along each diagonal (9 views)."""
    return FLIP + [f"{m}shift({dy},{dx})" for dy, dx in ((step, step), (-step, -step), (step, -step), (-step, step))
                   for m in ("", "hflip+")]


FLIP_AND_SHIFTS = flip_and_diagonal_shifts(1)
FLIP_AND_2PX_SHIFTS = flip_and_diagonal_shifts(2)

# The teacher's weight when a stage names a teacher but no weight (DeiT weighs its two targets equally).
DEFAULT_DISTILL = 0.5

RECIPES = {
    "convmixer-cifar10": dict(model="convmixer_cifar", lr=0.01, wd=0.01, batch=128, budget_min=36, channels_last=True, cutmix=0.5,
                              tta=FLIP),
    "vit-cifar10": dict(model="vit_cifar", lr=2e-3, wd=0.05, batch=128, budget_min=122,
                        teacher="convmixer-cifar10", tta=FLIP_AND_SHIFTS),
    "swin-cifar10": dict(model="swin_cifar", lr=2e-3, wd=0.05, batch=128, budget_min=120, cutmix=0.5,
                         tta=FLIP_AND_2PX_SHIFTS),
    "mvitv2-cifar10": dict(model="mvitv2_cifar", lr=2e-3, wd=0.05, batch=128, budget_min=13, cutmix=0.5,
                           teacher="convmixer-cifar10", tta=FLIP_AND_SHIFTS),
    "nest-cifar10": dict(model="nest_cifar", lr=2e-3, wd=0.05, batch=128, budget_min=13, cutmix=0.5,
                         teacher="convmixer-cifar10", tta=FLIP_AND_SHIFTS),
}


def stage_recipe(model_id: str, lr: float | None = None, teacher: str | None = None, distill: float | None = None,
                 cutmix: float | None = None, input_size: int | None = None) -> dict:
    """The recipe one stage runs: the family's, with the command line's overrides (None: keep)."""
    overrides = {"lr": lr, "teacher": teacher, "distill": distill, "cutmix": cutmix, "input_size": input_size}
    r = {**RECIPES[model_id], **{k: v for k, v in overrides.items() if v is not None}}
    if r.get("teacher") and r.get("distill") is None:
        r["distill"] = DEFAULT_DISTILL
    return r


CIFAR_SIZE = 32


def stage_input_size(recipe: dict) -> int:
    """The side of the square input a recipe (or one stage's) trains at: CIFAR's 32 px unless it upscales."""
    return recipe.get("input_size", CIFAR_SIZE)


def input_size(model_id: str) -> int:
    """The side a family is trained at and released for."""
    return stage_input_size(RECIPES[model_id])


def served_views(model_id: str) -> list:
    """The test-time views a family's manifest declares (the mirror alone where its recipe names none)."""
    return list(RECIPES[model_id].get("tta", FLIP))
