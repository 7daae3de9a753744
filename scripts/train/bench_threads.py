"""Median seconds per training step (student forward+backward+AdamW, optional teacher forward)
under each thread arrangement, one fresh process per row (OpenBLAS reads its thread count once,
when it loads). Backs the README's figure for holding OpenBLAS to one thread.

    npm run bench:train-threads -- --id mvitv2-cifar10 [--steps 5] [--teacher <id>]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROWS = [  # (torch intra-op threads, OpenBLAS threads); the first row is the baseline
    (2, 2),  # what Debian's torch does unless told otherwise on 2 cores
    (2, 1),  # what scripts/train sets
    (1, 2),
]


def measure(model_id: str, steps: int, torch_threads: int, teacher_id: str | None = None) -> dict:
    import torch
    from .recipes import stage_input_size, stage_recipe
    from .train import build_model, load_teacher, upscale
    torch.set_num_threads(torch_threads)
    recipe = stage_recipe(model_id, teacher=teacher_id)
    model = build_model(recipe)
    opt = torch.optim.AdamW(model.parameters())
    teacher = load_teacher(recipe["teacher"], torch.device("cpu"))[0] if recipe.get("teacher") else None
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(recipe["batch"], 3, 32, 32, generator=gen), torch.randint(0, 10, (recipe["batch"],), generator=gen)
    student, total = [], []
    for _ in range(steps + 1):  # the first step warms allocators and is dropped
        t0 = time.perf_counter()
        if teacher:
            teacher(x)
        t1 = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(upscale(x, stage_input_size(recipe))), y).backward()
        opt.step()
        student.append(time.perf_counter() - t1)
        total.append(time.perf_counter() - t0)
    return {"student_s": statistics.median(student[1:]), "step_s": statistics.median(total[1:]), "teacher": teacher is not None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--id", default="mvitv2-cifar10")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--teacher", help="time with this shipped model as the teacher instead of the recipe's")
    ap.add_argument("--torch-threads", type=int, help=argparse.SUPPRESS)  # set in the child process
    a = ap.parse_args(argv)
    if a.torch_threads:
        print(json.dumps(measure(a.id, a.steps, a.torch_threads, a.teacher)))
        return 0
    print(f"{a.id}: median of {a.steps} steps, s/step (one process per row)\n")
    print("| torch threads | OpenBLAS threads | student s | with teacher s | vs first row |\n| --- | --- | --- | --- | --- |")
    base = None
    for torch_threads, blas_threads in ROWS:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(blas_threads)}
        out = subprocess.run([sys.executable, "-m", "scripts.train.bench_threads", "--id", a.id, "--steps", str(a.steps),
                              "--torch-threads", str(torch_threads), *(["--teacher", a.teacher] if a.teacher else [])], env=env, check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        base = base or r["step_s"]
        with_teacher = f"{r['step_s']:.3f}" if r["teacher"] else "-"
        print(f"| {torch_threads} | {blas_threads} | {r['student_s']:.3f} | {with_teacher} | {base / r['step_s']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
