#!/usr/bin/env python3
"""JPEG encodings of a photo and their reduced decodes by libjpeg (PIL's draft mode), for tests.

Usage: jpeg_variants.py <photo> <out_dir>
Writes <out_dir>/<case>.jpg and, for each scale 1/D (D = 8, 4, 2), <case>.draft<D>.rgb (libjpeg's
scaled IDCT) and <case>.box<D>.rgb (the full decode averaged over each DxD block); .rgb files
start with width, height as uint32 LE.
Cases: chroma subsampling 4:2:0 / 4:2:2 / 4:4:4, progressive, restart markers, grayscale, and a
size that is not a multiple of 16; restart markers and arithmetic coding by jpegtran (lossless
transcodes of the 4:2:0 file), and CMYK: these two a 1/8 decoder may decline (no .rgb written).
"""
import math
import os
import struct
import subprocess
import sys

import numpy as np
from PIL import Image

CASES = {
    "420": dict(subsampling=2),
    "422": dict(subsampling=1),
    "444": dict(subsampling=0),
    "progressive-420": dict(subsampling=2, progressive=True),
    "progressive-444": dict(subsampling=0, progressive=True),
    "gray": dict(mode="L"),
    "progressive-gray": dict(mode="L", progressive=True),
    "odd-size-420": dict(subsampling=2, crop=(3, 5, 3 + 461, 5 + 333)),
}


def write_rgb(path, img):
    with open(path, "wb") as f:
        f.write(struct.pack("<II", *img.size))
        f.write(img.convert("RGB").tobytes())


def main(photo, out):
    src = Image.open(photo).convert("RGB")
    for name, o in CASES.items():
        o = dict(o)
        img = src.crop(o.pop("crop")) if "crop" in o else src
        img = img.convert(o.pop("mode", "RGB"))
        path = os.path.join(out, name + ".jpg")
        img.save(path, "JPEG", quality=90, **o)
        w, h = Image.open(path).size
        full = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
        for denom in (8, 4, 2):
            draft = Image.open(path)
            draft.draft(draft.mode, (w // denom, h // denom))  # PIL picks the largest reduction that keeps this size
            write_rgb(os.path.join(out, f"{name}.draft{denom}.rgb"), draft)
            bw, bh = math.ceil(w / denom), math.ceil(h / denom)
            padded = np.pad(full, ((0, bh * denom - h), (0, bw * denom - w), (0, 0)), mode="edge")
            box = padded.reshape(bh, denom, bw, denom, 3).mean(axis=(1, 3))
            write_rgb(os.path.join(out, f"{name}.box{denom}.rgb"), Image.fromarray(np.round(box).astype(np.uint8)))
    base = os.path.join(out, "420.jpg")
    for name, args in {"restarts-420": ["-restart", "7B"], "restarts-progressive-420": ["-restart", "1", "-progressive"]}.items():
        with open(os.path.join(out, name + ".jpg"), "wb") as f:
            subprocess.run(["jpegtran", *args, base], stdout=f, check=True)
        for ext in ("draft8", "box8", "draft4", "box4", "draft2", "box2"):  # the same coefficients as 420.jpg
            with open(os.path.join(out, f"420.{ext}.rgb"), "rb") as a, open(os.path.join(out, f"{name}.{ext}.rgb"), "wb") as b:
                b.write(a.read())
    with open(os.path.join(out, "declined-arithmetic.jpg"), "wb") as f:
        subprocess.run(["jpegtran", "-arithmetic", base], stdout=f, check=True)
    src.convert("CMYK").save(os.path.join(out, "declined-cmyk.jpg"), "JPEG", quality=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
