// Large test images made from a real photo by PIL (scripts/reference/big_image.py), for the
// tests and benchmarks of the reduced decoders.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './local-models.mjs';

/** bytes of `photo` resized to width x height as 'JPEG' (q90) or 'PNG'; tile > 1: blocky, tiny PNG. */
export function bigImage(photo, width, height, format, tile = 1, { progressive = false } = {}) {
  return new Uint8Array(execFileSync(process.env.PYTHON ?? '/usr/bin/python3',
    [join(ROOT, 'scripts/reference/big_image.py'), photo, String(width), String(height), format, '--tile', String(tile), ...(progressive ? ['--progressive'] : [])],
    { maxBuffer: 256 * 2 ** 20 }));
}
