#!/usr/bin/env python3
"""Derives test images from one real photo: the same pixels as PNG and lossless WebP, an
EXIF-rotated JPEG, PNG (eXIf chunk) and WebP (EXIF chunk), each stored sideways with
orientation 6, a progressive JPEG, grayscale and RGBA PNGs.

Usage: make_images.py <photo.jpg> <out_dir>
"""
import sys
from pathlib import Path

from PIL import Image


def main(src, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    img = Image.open(src).convert("RGB")
    img.save(out / "photo.png")
    img.save(out / "photo.webp", lossless=True)
    img.save(out / "photo-lossy.webp", quality=90)
    # Stored rotated 90 degrees clockwise; orientation 6 tells viewers to rotate it back.
    sideways = img.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(out / "orient6.jpg", quality=95, exif=exif.tobytes())
    sideways.save(out / "orient6.png", exif=exif.tobytes())
    sideways.save(out / "orient6.webp", lossless=True, exif=exif.tobytes())
    img.save(out / "upright.jpg", quality=95)
    img.save(out / "progressive.jpg", quality=90, progressive=True)
    img.convert("L").save(out / "gray.png")
    rgba = img.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(out / "rgba.png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
