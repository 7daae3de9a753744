// Preprocessing parity with PIL (the reference most image models were trained with), on the
// real photos in ../shared/images. Resampling is compared on identical decoded pixels (PIL's
// decode) so the two error sources are measured separately: resampling here, decoding below.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizedRgb, toFloat16, fromFloat16, writeNormalized, plan } from '../../src/preprocess/tensor';
import type { Preprocess } from '../../src/models/manifest';
import { decodeForTest } from '../support/node-codecs';
import { pilReference, pilResizeSquares, rgbToRgba } from '../support/pil';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const photos = readdirSync(join(SHARED_DIR, 'images')).filter((f) => /\.jpe?g$/i.test(f)).sort();
const paths = photos.map((f) => join(SHARED_DIR, 'images', f));

const base: Preprocess = { size: 224, resize: 'shortest_edge', crop_pct: 0.875, interpolation: 'bicubic', channel_order: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function maxDiff(a: Uint8Array, b: Uint8Array) {
  let max = 0, sum = 0, differing = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i]! - b[i]!); max = Math.max(max, d); sum += d; if (d) differing++; }
  return { max, mean: sum / a.length, differing: differing / a.length };
}

describe('resampling matches PIL on the real photos', () => {
  const cases: Array<[string, number, number]> = [['bicubic', 224, 0.875], ['bilinear', 224, 0.875], ['bilinear', 32, 1], ['bicubic', 96, 1]];
  it('nearest 224px: identical to PIL (same coordinate accumulation as ImagingScaleAffine)', () => {
    let worst = 0;
    for (const ref of pilReference(paths.slice(0, 10), 224, 0.875, 'nearest')) {
      worst = Math.max(worst, maxDiff(resizedRgb(ref.img, { ...base, interpolation: 'nearest' }), ref.crop).differing);
    }
    console.log(`nearest: at most ${(worst * 100).toFixed(3)}% of values differ`);
    expect(worst).toBe(0);
  });
  for (const [interp, size, crop] of cases) {
    it(`${interp} ${size}px crop_pct ${crop}: bit-exact with PIL on all 43 photos`, () => {
      let worst = 0, meanSum = 0;
      for (const ref of pilReference(paths, size, crop, interp)) {
        const ours = resizedRgb(ref.img, { ...base, size, crop_pct: crop, interpolation: interp as Preprocess['interpolation'] });
        expect(ours.length).toBe(ref.crop.length);
        const d = maxDiff(ours, ref.crop);
        worst = Math.max(worst, d.max); meanSum += d.mean;
      }
      console.log(`${interp} ${size}: max abs ${worst} level(s), mean abs ${(meanSum / photos.length).toFixed(4)} over ${photos.length} photos`);
      expect(worst).toBe(0);
    });
  }
  it('bilinear upscale of 32 px images to 48 ("direct", how a CIFAR model trained at 48 px is served): bit-exact with PIL', () => {
    // The sources are PIL's own 32 px crops of the photos: real image content at CIFAR's size.
    const smalls = pilReference(paths, 32, 1, 'bilinear').map((r) => r.crop);
    const expected = pilResizeSquares(Buffer.concat(smalls), 32, 48, 'bilinear');
    const p: Preprocess = { ...base, size: 48, resize: 'direct', crop_pct: 1, interpolation: 'bilinear' };
    let worst = 0;
    for (const [i, rgb] of smalls.entries()) {
      const ours = resizedRgb({ width: 32, height: 32, data: rgbToRgba(rgb, 32 * 32) }, p);
      worst = Math.max(worst, maxDiff(ours, expected.subarray(i * 48 * 48 * 3, (i + 1) * 48 * 48 * 3)).max);
    }
    expect(expected.length).toBe(smalls.length * 48 * 48 * 3);
    expect(worst).toBe(0);
  });
});

describe('decoding matches PIL', () => {
  it('mozjpeg (WASM) vs PIL/libjpeg on the real photos: same size, identical pixels', async () => {
    let worst = 0, meanSum = 0;
    const refs = pilReference(paths, 32, 1, 'bilinear');
    for (const [i, path] of paths.entries()) {
      const ref = refs[i]!;
      const ours = await decodeForTest(new Uint8Array(readFileSync(path)));
      expect([ours.width, ours.height]).toEqual([ref.img.width, ref.img.height]);
      const d = maxDiff(ours.data, ref.img.data);
      worst = Math.max(worst, d.max); meanSum += d.mean;
    }
    const mean = meanSum / photos.length;
    console.log(`decode: max abs ${worst} levels, mean abs ${mean.toFixed(4)}`);
    expect(worst).toBe(0);
  });
});

describe('tensor layout', () => {
  it('plans shortest-edge resize and centre crop as torchvision does', () => {
    expect(plan(500, 375, base)).toEqual({ outW: 341, outH: 256, win: { x: 58, y: 16, width: 224, height: 224 } });
    expect(plan(375, 500, { ...base, size: 32, crop_pct: 1 })).toEqual({ outW: 32, outH: 42, win: { x: 0, y: 5, width: 32, height: 32 } });
    expect(plan(500, 375, { ...base, resize: 'direct' }).outW).toBe(224);
  });
  it('normalises RGB/BGR, NCHW/NHWC with scale, mean and std', () => {
    const rgb = new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]); // 2x2
    const p: Preprocess = { ...base, size: 2, scale: 1, mean: [1, 2, 3], std: [1, 1, 2] };
    const nchw = new Float32Array(12);
    writeNormalized(rgb, { ...p, channel_order: 'BGR' }, 'NCHW', nchw, 0);
    expect(Array.from(nchw.subarray(0, 4))).toEqual([29, 59, 89, 119]); // B - 1
    expect(Array.from(nchw.subarray(8, 12))).toEqual([3.5, 18.5, 33.5, 48.5]); // (R - 3) / 2
    const nhwc = new Float32Array(12);
    writeNormalized(rgb, p, 'NHWC', nhwc, 0);
    expect(Array.from(nhwc.subarray(0, 3))).toEqual([9, 18, 13.5]);
  });
  it('converts to float16 and back within half precision', () => {
    const v = new Float32Array([0, 1, -2.5, 65504, 1e-5, 123.456, -0.000061035156]);
    const back = fromFloat16(toFloat16(v));
    v.forEach((x, i) => expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-3 + 1e-7));
    expect(toFloat16(new Float32Array([1]))[0]).toBe(0x3c00);
  });
});
