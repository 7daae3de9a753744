#!/usr/bin/env python3
"""Reference preprocessing with PIL (what timm/torchvision eval transforms do), for tests.

Usage: pil_preprocess.py <size> <crop_pct> <bilinear|bicubic|nearest> <out_dir> <image>...
For each image writes <out_dir>/<name>.src.rgb (the decoded, EXIF-transposed RGB; first
8 bytes: width, height as uint32 LE) and <out_dir>/<name>.crop.rgb (resize the shortest edge
to floor(size/crop_pct), centre crop size x size, raw RGB).
"""
import math
import os
import struct
import sys

from PIL import Image, ImageOps

FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}


def preprocess(path, size, crop_pct, interp, out):
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w, h = img.size
    with open(out + ".src.rgb", "wb") as f:
        f.write(struct.pack("<II", w, h))
        f.write(img.tobytes())
    short = math.floor(size / crop_pct)
    # torchvision.transforms.Resize(int): the short side becomes `short`, the long side int(short * long / short_side).
    if w <= h:
        nw, nh = short, int(short * h / w)
    else:
        nw, nh = int(short * w / h), short
    resized = img.resize((nw, nh), FILTERS[interp])
    left = int(round((nw - size) / 2.0))
    top = int(round((nh - size) / 2.0))
    with open(out + ".crop.rgb", "wb") as f:
        f.write(resized.crop((left, top, left + size, top + size)).tobytes())


def main(size, crop_pct, interp, out_dir, *images):
    os.makedirs(out_dir, exist_ok=True)
    for path in images:
        preprocess(path, int(size), float(crop_pct), interp, os.path.join(out_dir, os.path.basename(path)))


if __name__ == "__main__":
    main(*sys.argv[1:])
