import type { RgbaImage } from '../images/types';
import type { Preprocess } from '../models/manifest';
import { resizeWindow, type Window } from './resample';

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The shorter side the resize produces: the least an image must have to be only downscaled. */
export function resizeTarget(p: Preprocess): number {
  return p.resize === 'direct' ? p.size : Math.floor(p.size / p.crop_pct);
}

/** Output size and crop window for the manifest's resize mode (timm / torchvision semantics). */
export function plan(width: number, height: number, p: Preprocess): { outW: number; outH: number; win: Window } {
  const size = p.size;
  if (p.resize === 'direct') return { outW: size, outH: size, win: { x: 0, y: 0, width: size, height: size } };
  const short = resizeTarget(p);
  const [outW, outH] = width <= height
    ? [short, Math.floor((short * height) / width)]
    : [Math.floor((short * width) / height), short];
  return {
    outW, outH,
    win: { x: roundHalfEven((outW - size) / 2), y: roundHalfEven((outH - size) / 2), width: size, height: size },
  };
}

/** RGB bytes of the model's input window, before normalisation (also used by tests). */
export function resizedRgb(img: RgbaImage, p: Preprocess): Uint8Array {
  const { outW, outH, win } = plan(img.width, img.height, p);
  if (outW === img.width && outH === img.height && win.x === 0 && win.y === 0 &&
      win.width === img.width && win.height === img.height) {
    const rgb = new Uint8Array(img.width * img.height * 3);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgb[i] = img.data[j]!; rgb[i + 1] = img.data[j + 1]!; rgb[i + 2] = img.data[j + 2]!;
    }
    return rgb;
  }
  return resizeWindow(img, outW, outH, win, p.interpolation);
}

/**
 * Writes image `index` of a batch into `out` (float32 values; converted to fp16 later if the
 * model wants it): channel order, scale, mean/std and layout all come from the manifest.
 */
export function writeNormalized(rgb: Uint8Array, p: Preprocess, layout: 'NCHW' | 'NHWC', out: Float32Array, index: number): void {
  const hw = p.size * p.size;
  const base = index * 3 * hw;
  const order = p.channel_order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const mul = [0, 1, 2].map((c) => p.scale / p.std[c]!);
  const add = [0, 1, 2].map((c) => -p.mean[c]! / p.std[c]!);
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const m = mul[c]!;
    const a = add[c]!;
    if (layout === 'NCHW') {
      const o = base + c * hw;
      for (let i = 0; i < hw; i++) out[o + i] = rgb[i * 3 + src]! * m + a;
    } else {
      for (let i = 0; i < hw; i++) out[base + i * 3 + c] = rgb[i * 3 + src]! * m + a;
    }
  }
}

/** IEEE 754 half-precision bits, round to nearest even (ORT takes fp16 tensors as Uint16Array). */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    let e = exp - 127 + 15;
    if (e >= 0x1f) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
    out[i] = sign | h;
  }
  return out;
}

export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}
