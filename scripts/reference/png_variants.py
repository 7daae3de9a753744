#!/usr/bin/env python3
"""PNG encodings of a photo and PIL's box reduction of each (Image.reduce), for tests.

Usage: png_variants.py <photo> <factor> <out_dir>
Writes <out_dir>/<case>.png and <case>.reduced.rgb (width, height as uint32 LE, then RGB bytes:
PIL's decode converted to RGB, then reduce(factor)). PIL writes the 8-bit cases; a small writer
here makes the 16-bit and the interlaced (Adam7) ones and cycles through all five row filters so
each is exercised.
"""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image


def write_rgb(path, img):
    with open(path, "wb") as f:
        f.write(struct.pack("<II", *img.size))
        f.write(img.convert("RGB").tobytes())


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filtered(rows, bpp):
    """Each row filtered with type y % 5 (None, Sub, Up, Average, Paeth)."""
    out, prev = [], np.zeros_like(rows[0])
    for y, row in enumerate(rows):
        r = row.astype(np.int32)
        p = prev.astype(np.int32)
        a = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]])
        c = np.concatenate([np.zeros(bpp, np.int32), p[:-bpp]])
        t = y % 5
        pred = [np.zeros_like(r), a, p, (a + p) >> 1, paeth(a, p, c)][t]
        out.append(bytes([t]) + ((r - pred) & 255).astype(np.uint8).tobytes())
        prev = row
    return b"".join(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, arr, colour, interlace=False):
    """arr: uint8 or uint16 [h, w, channels]; big-endian samples, every filter type."""
    h, w, ch = arr.shape
    depth = 16 if arr.dtype == np.uint16 else 8
    sub_images = [arr[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7] if interlace else [arr]
    data = b""
    for sub in sub_images:
        if sub.size:
            rows = [np.frombuffer(sub[y].astype(">u2" if depth == 16 else np.uint8).tobytes(), np.uint8) for y in range(sub.shape[0])]
            data += filtered(rows, depth // 8 * ch)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, int(interlace)))
                + chunk(b"IDAT", zlib.compress(data, 6)) + chunk(b"IEND", b""))


def main(photo, factor, out):
    factor = int(factor)
    src = Image.open(photo).convert("RGB").crop((0, 0, 497, 371))  # not a multiple of the factor
    cases = {
        "rgb": src, "rgba": src.convert("RGBA"), "gray": src.convert("L"), "gray-alpha": src.convert("LA"),
        "palette": src.convert("P", palette=Image.ADAPTIVE, colors=256),
        "palette-16": src.convert("P", palette=Image.ADAPTIVE, colors=16), "bilevel": src.convert("1"),
    }
    for name, img in cases.items():
        path = os.path.join(out, name + ".png")
        img.save(path, "PNG", **({"bits": 4} if name == "palette-16" else {}))
        write_rgb(os.path.join(out, name + ".reduced.rgb"), Image.open(path).convert("RGB").reduce(factor))
    rgb16 = np.asarray(src, np.uint16) * 257 + np.arange(371 * 497 * 3, dtype=np.uint16).reshape(371, 497, 3) % 200
    high = Image.fromarray((rgb16 >> 8).astype(np.uint8), "RGB")  # the reference keeps the high byte
    for name, arr, interlace in [("rgb16", rgb16, False), ("rgb16-interlaced", rgb16, True)]:
        write_png(os.path.join(out, name + ".png"), arr, 2, interlace)
        write_rgb(os.path.join(out, name + ".reduced.rgb"), high.reduce(factor))
    # An interlaced 8-bit file, checked against PIL's own Adam7 decoder; and a tiny one (empty passes).
    for name, img in [("rgb-interlaced", src), ("tiny-interlaced", src.resize((3, 2)))]:
        path = os.path.join(out, name + ".png")
        write_png(path, np.asarray(img, np.uint8), 2, True)
        write_rgb(os.path.join(out, name + ".reduced.rgb"), Image.open(path).convert("RGB").reduce(factor))


if __name__ == "__main__":
    main(*sys.argv[1:4])
