/**
 * Separable resampling that reproduces Pillow's `Image.resize` bit for bit (the reference most
 * image models were trained with): antialiased when downscaling (the filter support widens
 * with the scale), horizontal pass first, Pillow's 22-bit fixed-point coefficients and 8-bit
 * rounding between passes. Only the output window that survives the centre crop is computed.
 */
import type { RgbaImage } from '../images/types';

export type Interpolation = 'bilinear' | 'bicubic' | 'nearest';

interface Filter { support: number; f: (x: number) => number }

const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  bilinear: { support: 1, f: (x) => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

/** For each output index in [from, from+count): first source index and normalised weights. */
interface Coeffs { start: Int32Array; size: Int32Array; weights: Int32Array; ksize: number }

/** Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function coefficients(inSize: number, outSize: number, from: number, count: number, interp: Interpolation): Coeffs {
  const scale = inSize / outSize;
  if (interp === 'nearest') {
    // Pillow's NEAREST samples the source pixel under the output pixel's centre, accumulating
    // the coordinate step by step (ImagingScaleAffine); doing the same keeps ties identical.
    const start = new Int32Array(count);
    let xo = scale * 0.5;
    for (let i = 0; i < from + count; i++, xo += scale) {
      if (i >= from) start[i - from] = Math.min(inSize - 1, Math.trunc(xo));
    }
    return { start, size: new Int32Array(count).fill(1), weights: new Int32Array(count).fill(ONE), ksize: 1 };
  }
  const filter = FILTERS[interp];
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const size = new Int32Array(count);
  const weights = new Int32Array(count * ksize);
  const ss = 1 / filterscale;
  const k = new Float64Array(ksize);
  for (let i = 0; i < count; i++) {
    const center = (from + i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.f((x + xmin - center + 0.5) * ss);
      total += k[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x]! / total : k[x]!;
      // Pillow's normalize_coeffs_8bpc: round half away from zero into fixed point.
      weights[i * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    start[i] = xmin;
    size[i] = xmax;
  }
  return { start, size, weights, ksize };
}

/** Pillow's clip8: the fixed-point sum (which started at HALF, for rounding) to 0..255. */
const clip8 = (v: number) => (v >= ONE * 256 ? 255 : v <= 0 ? 0 : Math.floor(v / ONE));

export interface Window { x: number; y: number; width: number; height: number }

/**
 * Resizes `img` to outW x outH and returns only `win` of the result as packed RGB (3 bytes per
 * pixel). Equivalent to Pillow's resize followed by crop(win).
 */
export function resizeWindow(img: RgbaImage, outW: number, outH: number, win: Window, interp: Interpolation): Uint8Array {
  const cx = coefficients(img.width, outW, win.x, win.width, interp);
  const cy = coefficients(img.height, outH, win.y, win.height, interp);
  // Source rows the vertical pass will read.
  let rowLo = Infinity;
  let rowHi = -Infinity;
  for (let i = 0; i < win.height; i++) {
    rowLo = Math.min(rowLo, cy.start[i]!);
    rowHi = Math.max(rowHi, cy.start[i]! + cy.size[i]!);
  }
  const rows = rowHi - rowLo;
  const src = img.data;
  const sw = img.width;
  // Horizontal pass: rows x win.width, RGB, rounded to 8 bits as Pillow does.
  const tmp = new Uint8Array(rows * win.width * 3);
  for (let r = 0; r < rows; r++) {
    const srow = (rowLo + r) * sw * 4;
    for (let i = 0; i < win.width; i++) {
      const s = cx.start[i]!;
      const n = cx.size[i]!;
      const wo = i * cx.ksize;
      let R = HALF, G = HALF, B = HALF;
      for (let k = 0; k < n; k++) {
        const w = cx.weights[wo + k]!;
        const p = srow + (s + k) * 4;
        R += src[p]! * w; G += src[p + 1]! * w; B += src[p + 2]! * w;
      }
      const t = (r * win.width + i) * 3;
      tmp[t] = clip8(R); tmp[t + 1] = clip8(G); tmp[t + 2] = clip8(B);
    }
  }
  // Vertical pass.
  const out = new Uint8Array(win.width * win.height * 3);
  const stride = win.width * 3;
  for (let j = 0; j < win.height; j++) {
    const s = cy.start[j]! - rowLo;
    const n = cy.size[j]!;
    const wo = j * cy.ksize;
    for (let c = 0; c < stride; c++) {
      let acc = HALF;
      for (let k = 0; k < n; k++) acc += tmp[(s + k) * stride + c]! * cy.weights[wo + k]!;
      out[j * stride + c] = clip8(acc);
    }
  }
  return out;
}
