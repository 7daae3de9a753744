// Test-time views: the mirror written into the batch is the normalised mirror image, in both
// layouts, and each image's outputs are the mean over its own views only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Preprocess } from '../../src/models/manifest';
import { meanOfRows, meanOfViews, meanOverViews } from '../../src/postprocess/views';
import { writeNormalized } from '../../src/preprocess/tensor';
import { viewCount, writeViews } from '../../src/preprocess/views';

const p = (size: number): Preprocess => ({ size, resize: 'direct', crop_pct: 1, interpolation: 'bilinear', channel_order: 'BGR', scale: 1 / 255, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] });

/** RGB bytes of the image mirrored left-right. */
function mirroredRgb(rgb: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    out[(y * size + x) * 3 + c] = rgb[(y * size + (size - 1 - x)) * 3 + c]!;
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

  it('no views: one input per image and nothing written', () => {
    expect(viewCount([])).toBe(1);
    expect(viewCount(['hflip'])).toBe(2);
    const batch = new Float32Array(12).fill(7);
    writeViews(batch, 0, 2, 'NCHW', []);
    expect(Array.from(batch)).toEqual(new Array(12).fill(7));
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
