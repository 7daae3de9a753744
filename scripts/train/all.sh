#!/usr/bin/env bash
# Trains and releases every compact model in sequence (see scripts/train/recipes.py for budgets).
#   bash scripts/train/all.sh [id ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
ids=("$@")
[ ${#ids[@]} -eq 0 ] && ids=(convmixer-cifar10 vit-cifar10 swin-cifar10 mvitv2-cifar10 nest-cifar10)
for id in "${ids[@]}"; do
  PYTHONPATH=. $PY -m scripts.train.train --id "$id"
  PYTHONPATH=. $PY -m scripts.train.release --id "$id"
done
