// Runs the PIL reference preprocessing (scripts/reference/pil_preprocess.py) over many images
// in one Python process and reads its outputs back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

export interface PilResult { img: { width: number; height: number; data: Uint8Array }; crop: Uint8Array }

export function pilReference(paths: string[], size: number, cropPct: number, interp: string): PilResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'pil-'));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(ROOT, 'scripts/reference/pil_preprocess.py'), String(size), String(cropPct), interp, dir, ...paths]);
  return paths.map((p) => {
    const out = join(dir, basename(p));
    const src = readFileSync(out + '.src.rgb');
    const w = src.readUInt32LE(0), h = src.readUInt32LE(4);
    return { img: { width: w, height: h, data: rgbToRgba(src.subarray(8), w * h) }, crop: new Uint8Array(readFileSync(out + '.crop.rgb')) };
  });
}

/** Pillow's `resize((size, size), interp)` of each of `n` square `side` x `side` RGB images (raw, concatenated): one Python process for all. */
export function pilResizeSquares(rgb: Uint8Array, side: number, size: number, interp: string): Uint8Array {
  const script = [
    'import sys', 'from PIL import Image',
    'side, size, f = int(sys.argv[1]), int(sys.argv[2]), getattr(Image, sys.argv[3].upper())',
    'raw, n = sys.stdin.buffer.read(), side * side * 3',
    'sys.stdout.buffer.write(b"".join(Image.frombytes("RGB", (side, side), raw[i:i + n]).resize((size, size), f).tobytes() for i in range(0, len(raw), n)))',
  ].join('\n');
  return new Uint8Array(execFileSync(process.env.PYTHON ?? '/usr/bin/python3', ['-c', script, String(side), String(size), interp], { input: rgb, maxBuffer: 1 << 26 }));
}

/** Raw RGB -> opaque RGBA, the layout decoded images have in the Worker. */
export function rgbToRgba(rgb: Uint8Array, pixels: number): Uint8Array {
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgba[i] = rgb[j]!; rgba[i + 1] = rgb[j + 1]!; rgba[i + 2] = rgb[j + 2]!; rgba[i + 3] = 255; }
  return rgba;
}
