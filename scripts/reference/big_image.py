#!/usr/bin/env python3
"""A large test image made from a real photo, written to stdout (tests and `npm run bench`).

Usage: big_image.py <photo> <width> <height> <JPEG|PNG> [--tile N] [--progressive]
The photo is resized (bicubic) to width x height; with --tile N it is resized to width/N x
height/N first and then scaled up N times by pixel repetition, which makes a PNG of many
megapixels that compresses to well under a megabyte (an "honest" decompression bomb).
JPEGs are written at quality 90.
"""
import argparse
import io
import sys

from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("photo")
    ap.add_argument("width", type=int)
    ap.add_argument("height", type=int)
    ap.add_argument("format", choices=["JPEG", "PNG"])
    ap.add_argument("--tile", type=int, default=1)
    ap.add_argument("--progressive", action="store_true", help="a progressive JPEG")
    a = ap.parse_args()
    im = Image.open(a.photo).convert("RGB")
    if a.tile > 1:
        im = im.resize((a.width // a.tile, a.height // a.tile), Image.BICUBIC).resize((a.width, a.height), Image.NEAREST)
    else:
        im = im.resize((a.width, a.height), Image.BICUBIC)
    out = io.BytesIO()
    im.save(out, a.format, **({"quality": 90, "progressive": a.progressive} if a.format == "JPEG" else {}))
    sys.stdout.buffer.write(out.getvalue())


if __name__ == "__main__":
    main()
