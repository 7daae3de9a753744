import type { Manifest } from '../models/manifest';

export type View = Manifest['tta'][number];

/** Model inputs per image: the image itself, then each test-time view. */
export const viewCount = (views: readonly View[]): number => 1 + views.length;

/**
 * Writes the test-time views of the image at slot `index` of `out` into the slots after it.
 * Only the mirror exists: mirroring commutes with the per-channel normalisation, so the
 * normalised tensor is flipped instead of resizing the image twice.
 */
export function writeViews(out: Float32Array, index: number, size: number, layout: 'NCHW' | 'NHWC', views: readonly View[]): void {
  const per = 3 * size * size;
  const src = out.subarray(index * per, (index + 1) * per);
  views.forEach((view, v) => {
    const dst = out.subarray((index + 1 + v) * per, (index + 2 + v) * per);
    if (view === 'hflip') mirror(src, dst, size, layout);
  });
}

function mirror(src: Float32Array, dst: Float32Array, size: number, layout: 'NCHW' | 'NHWC'): void {
  // NCHW rows are `size` values per channel; NHWC rows are `size` pixels of 3 values each.
  const [rows, px] = layout === 'NCHW' ? [3 * size, 1] : [size, 3];
  const rowLen = size * px;
  for (let r = 0; r < rows; r++) {
    const o = r * rowLen;
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < px; c++) dst[o + x * px + c] = src[o + (size - 1 - x) * px + c]!;
    }
  }
}
