import type { RgbaImage } from './types';

/**
 * Applies an EXIF orientation (1..8) so that pixels are upright, as browsers and PIL's
 * ImageOps.exif_transpose do. Orientation 1 returns the input unchanged.
 */
export function applyOrientation(img: RgbaImage, orientation: number): RgbaImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 4);
  const src32 = new Uint32Array(data.buffer, data.byteOffset, w * h);
  const dst32 = new Uint32Array(out.buffer);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [dx, dy] = target(orientation, x, y, w, h);
      dst32[dy * ow + dx] = src32[y * w + x]!;
    }
  }
  return { width: ow, height: oh, data: out };
}

function target(o: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 2: return [w - 1 - x, y];
    case 3: return [w - 1 - x, h - 1 - y];
    case 4: return [x, h - 1 - y];
    case 5: return [y, x];
    case 6: return [h - 1 - y, x];
    case 7: return [h - 1 - y, w - 1 - x];
    default: return [y, w - 1 - x]; // 8
  }
}
