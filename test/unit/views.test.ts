// Test-time views: each view written into the batch is the normalised mirrored / shifted image
// (reflect-padded as the training crops were), in both layouts; view names outside the grammar are
// refused; each image's outputs are the mean over its own views only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Preprocess } from '../../src/models/manifest';
import { meanOfRows, meanOfViews, meanOverViews } from '../../src/postprocess/views';
import { writeNormalized } from '../../src/preprocess/tensor';
import { MAX_SHIFT, ViewSchema, viewCount, writeViews } from '../../src/preprocess/views';

const p = (size: number): Preprocess => ({ size, resize: 'direct', crop_pct: 1, interpolation: 'bilinear', channel_order: 'BGR', scale: 1 / 255, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] });

/** RGB bytes of the image mirrored left-right. */
function mirroredRgb(rgb: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    out[(y * size + x) * 3 + c] = rgb[(y * size + (size - 1 - x)) * 3 + c]!;
  }
  return out;
}

/** RGB bytes of the image padded by `pad` on every side, edges reflected without repeating them (numpy's and torch's "reflect"). */
function reflectPadded(rgb: Uint8Array, size: number, pad: number): { rgb: Uint8Array; side: number } {
  const side = size + 2 * pad;
  const out = new Uint8Array(side * side * 3);
  const axis = (i: number): number => {
    let j = i - pad;
    while (j < 0 || j >= size) j = j < 0 ? -j : 2 * (size - 1) - j;
    return j;
  };
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) {
    out[(y * side + x) * 3 + c] = rgb[(axis(y) * size + axis(x)) * 3 + c]!;
  }
  return { rgb: out, side };
}

/** The `size` x `size` window of the padded image whose corner is (pad + dy, pad + dx). */
function shiftedRgb(rgb: Uint8Array, size: number, dy: number, dx: number): Uint8Array {
  const padded = reflectPadded(rgb, size, MAX_SHIFT);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    out[(y * size + x) * 3 + c] = padded.rgb[((y + MAX_SHIFT + dy) * padded.side + x + MAX_SHIFT + dx) * 3 + c]!;
  }
  return out;
}

describe('test-time views', () => {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`${layout}: the hflip view equals normalising the mirrored image`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 31 }), (size, index, seed) => {
        const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 2654435761 + seed) % 256);
        const per = 3 * size * size;
        const batch = new Float32Array(per * (index + 2)).fill(NaN);
        writeNormalized(rgb, p(size), layout, batch, index);
        writeViews(batch, index, size, layout, ['hflip']);
        const want = new Float32Array(per);
        writeNormalized(mirroredRgb(rgb, size), p(size), layout, want, 0);
        expect(Array.from(batch.subarray((index + 1) * per, (index + 2) * per))).toEqual(Array.from(want));
        expect(batch.subarray(0, index * per).every(Number.isNaN)).toBe(true); // slots before are untouched
      }));
    });
  }

  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`${layout}: shift(dy,dx) and hflip+shift(dy,dx) equal normalising the reflect-padded, moved (mirrored) image`, () => {
      const shift = fc.integer({ min: -MAX_SHIFT, max: MAX_SHIFT });
      fc.assert(fc.property(fc.integer({ min: 2, max: 9 }), shift, shift, fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 }), (size, dy, dx, mirror, seed) => {
        fc.pre(dy !== 0 || dx !== 0);
        const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 2654435761 + seed) % 256);
        const per = 3 * size * size;
        const batch = new Float32Array(per * 3).fill(NaN);
        writeNormalized(rgb, p(size), layout, batch, 0);
        writeViews(batch, 0, size, layout, ['hflip', `${mirror ? 'hflip+' : ''}shift(${dy},${dx})`]);
        const want = new Float32Array(per);
        writeNormalized(shiftedRgb(mirror ? mirroredRgb(rgb, size) : rgb, size, dy, dx), p(size), layout, want, 0);
        expect(Array.from(batch.subarray(2 * per, 3 * per))).toEqual(Array.from(want));
      }));
    });
  }

  it('a 1-px shift moves the content: pixel (y, x) of shift(1,1) is pixel (y+1, x+1) of the image', () => {
    const size = 4;
    const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => i);
    const batch = new Float32Array(3 * size * size * 2);
    writeNormalized(rgb, { ...p(size), channel_order: 'RGB', mean: [0, 0, 0], std: [1, 1, 1], scale: 1 }, 'NHWC', batch, 0);
    writeViews(batch, 0, size, 'NHWC', ['shift(1,1)']);
    const view = batch.subarray(3 * size * size);
    expect(view[(0 * size + 0) * 3]).toBe(rgb[(1 * size + 1) * 3]);
    expect(view[(3 * size + 3) * 3]).toBe(rgb[(2 * size + 2) * 3]); // past the edge: reflected to row/col 2
  });

  it('refuses view names outside the grammar and shifts beyond the training crops', () => {
    for (const ok of ['hflip', 'shift(1,-1)', 'hflip+shift(-4,4)', 'shift(0,2)']) expect(ViewSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['vflip', 'shift(5,0)', 'shift(0,0)', 'shift(1, 1)', 'shift+hflip(1,1)', 'hflip+hflip', '', 'rot90']) {
      expect(ViewSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('no views: one input per image and nothing written', () => {
    expect(viewCount([])).toBe(1);
    expect(viewCount(['hflip'])).toBe(2);
    const batch = new Float32Array(12).fill(7);
    writeViews(batch, 0, 2, 'NCHW', []);
    expect(Array.from(batch)).toEqual(new Array(12).fill(7));
  });

  it('refuses a view the schema would refuse, every time (a bad name is never remembered as good)', () => {
    const batch = new Float32Array(3 * 2 * 2 * 2);
    for (let i = 0; i < 2; i++) expect(() => writeViews(batch, 0, 2, 'NCHW', ['shift(0,0)'])).toThrow(/unknown test-time view shift\(0,0\)/);
  });

  it("averages each image's consecutive views, logits and embeddings alike", () => {
    const out = {
      logits: Float32Array.from([1, 2, 3, 5, /* image 2 */ 10, 0, 0, 10]), classes: 2,
      embedding: Float32Array.from([0, 4, 2, 0, /* image 2 */ 1, 1, 3, 3]), embeddingDim: 2, backend: 'edge-wasm',
    };
    const merged = meanOverViews(out, 2);
    expect(Array.from(merged.logits)).toEqual([2, 3.5, 5, 5]);
    expect(Array.from(merged.embedding!)).toEqual([1, 2, 2, 2]);
    expect(merged.classes).toBe(2);
    expect(meanOverViews(out, 1)).toBe(out);
    expect(meanOverViews({ ...out, embedding: null }, 2).embedding).toBeNull();
  });

  it('the browser\'s separately run views average exactly as one batch of them does', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }),
      fc.array(fc.float({ noNaN: true, min: -50, max: 50 }), { minLength: 24, maxLength: 24 }),
      (k, width, pool) => {
        const rows = Array.from({ length: k }, (_, v) => Float32Array.from({ length: width }, (_, j) => pool[(v * width + j) % pool.length]!));
        const batch = new Float32Array(k * width);
        rows.forEach((r, v) => batch.set(r, v * width));
        expect(Array.from(meanOfRows(rows))).toEqual(Array.from(meanOfViews(batch, width, k)));
      },
    ));
  });
});
