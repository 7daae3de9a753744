// Shared by the fuzz tests (test/fuzz/*.test.ts): the seed corpus (real photos from
// ../shared/images and PNG/WebP variants of one made by PIL) and fast-check arbitraries for
// hostile image bytes: truncations, byte edits in headers and in entropy-coded data, random
// tails behind a valid signature, lying dimensions, bad chunk lengths, valid-CRC chunk lies,
// zip-bomb-like PNGs. Not a test file (vitest includes *.test.ts only).
import { readdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { PROBLEM_TYPES } from '../../src/errors';
import { crc32 } from '../../src/images/crc32';
import { PHOTOS, derivedImages, photo } from '../support/images';

/** FUZZ_RUNS: a multiplier (default 1) on every case count; FUZZ_SEED replays a run. */
export const SCALE = Math.max(0.01, Number(process.env.FUZZ_RUNS ?? 1) || 1);
export const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
export const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** Every problem type a client may see from a 4xx (5xx types are failures in the fuzz tests). */
export const CLIENT_PROBLEM_TYPES = new Set(Object.entries(PROBLEM_TYPES).filter(([, s]) => s < 500).map(([t]) => t));

export interface Corpus { [name: string]: Uint8Array }

/** A handful of real JPEGs (colour and grayscale), a progressive one, plus PNG (RGB, gray) and WebP (lossless, lossy) variants. */
export function seedCorpus(): Corpus {
  const jpegs = readdirSync(PHOTOS).filter((f) => /\.jpe?g$/i.test(f)).sort();
  const pick = [jpegs[0]!, jpegs[Math.floor(jpegs.length / 3)]!, jpegs[Math.floor((2 * jpegs.length) / 3)]!, jpegs[jpegs.length - 1]!];
  const d = derivedImages(jpegs[0]);
  const c: Corpus = { png: d.png, webp: d.webp, lossyWebp: d.lossyWebp, gray: d.gray, rgba: d.rgba, orient6: d.orient6, progressive: d.progressive };
  for (const f of pick) c[f] = photo(f);
  return c;
}

// ---- hand-made liars ----

/** A PNG chunk with a correct CRC, so a lie in it reaches the decoder instead of the CRC check. */
export function chunk(type: string, data: Uint8Array, length = data.length): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(length >>> 0);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A PNG declaring width x height (bit depth, colour type) whose IDAT inflates to `inflated`
 * zero bytes: a zip bomb when `inflated` is large, a liar when it does not match the size.
 */
export function lyingPng(width: number, height: number, inflated: number, depth = 8, colour = 2, idatLength?: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width >>> 0, 0); ihdr.writeUInt32BE(height >>> 0, 4);
  ihdr[8] = depth; ihdr[9] = colour;
  return new Uint8Array(Buffer.concat([PNG_SIG, chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(inflated), { level: 9 }), idatLength), chunk('IEND', new Uint8Array())]));
}

/** An honest PNG that inflates to exactly width x height RGB zeros: tiny file, big image. */
export const honestBombPng = (width: number, height: number) => lyingPng(width, height, (width * 3 + 1) * height);

/** A JPEG with its frame (SOF) dimensions replaced. */
export function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const b = jpeg.slice();
  for (let i = 2; i < b.length - 9; i++) {
    if (b[i] === 0xff && b[i + 1]! >= 0xc0 && b[i + 1]! <= 0xc2) {
      b[i + 5] = height >> 8; b[i + 6] = height & 255; b[i + 7] = width >> 8; b[i + 8] = width & 255;
      return b;
    }
  }
  throw new Error('no SOF marker');
}

/** Offset of the first byte of entropy-coded data (after SOS), or -1. */
export function jpegScanStart(b: Uint8Array): number {
  for (let i = 2; i < b.length - 4; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xda) return i + 2 + ((b[i + 2]! << 8) | b[i + 3]!);
  }
  return -1;
}

/** A WebP VP8X container declaring a canvas of width x height, then `rest` as its payload. */
export function vp8xWebp(width: number, height: number, rest: Uint8Array): Uint8Array {
  const body = Buffer.alloc(18);
  body.write('VP8X', 0, 'latin1'); body.writeUInt32LE(10, 4);
  const w = Math.max(0, width - 1), h = Math.max(0, height - 1);
  body[12] = w & 255; body[13] = (w >> 8) & 255; body[14] = (w >> 16) & 255;
  body[15] = h & 255; body[16] = (h >> 8) & 255; body[17] = (h >> 16) & 255;
  const payload = Buffer.concat([Buffer.from('WEBP', 'latin1'), body, Buffer.from(rest)]);
  const riff = Buffer.alloc(8); riff.write('RIFF', 0, 'latin1'); riff.writeUInt32LE(payload.length, 4);
  return new Uint8Array(Buffer.concat([riff, payload]));
}

/** Rewrites the length field of the n-th PNG chunk (CRC left alone). */
export function pngWithChunkLength(png: Uint8Array, n: number, length: number): Uint8Array {
  const b = png.slice();
  let off = 8;
  for (let i = 0; off + 8 <= b.length; i++) {
    const len = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
    if (i === n) { new DataView(b.buffer).setUint32(off, length >>> 0); return b; }
    off += 12 + len;
  }
  return b;
}

/**
 * The PNG with every complete chunk's CRC recomputed: byte edits then reach the inflater and the
 * row filters instead of stopping at the decoder's CRC check.
 */
export function withValidCrcs(png: Uint8Array): Uint8Array {
  const b = png.slice();
  const v = new DataView(b.buffer);
  for (let off = 8; off + 12 <= b.length;) {
    const end = off + 8 + v.getUint32(off);
    if (end + 4 > b.length) break;
    v.setUint32(end, crc32(b.subarray(off + 4, end)));
    off = end + 4;
  }
  return b;
}

/** Rewrites the RIFF size and the first chunk size of a WebP. */
export function webpWithSizes(webp: Uint8Array, riff: number, first: number): Uint8Array {
  const b = webp.slice();
  const v = new DataView(b.buffer);
  if (b.length >= 8) v.setUint32(4, riff >>> 0, true);
  if (b.length >= 20) v.setUint32(16, first >>> 0, true);
  return b;
}

// ---- arbitraries ----

/** Any 32-bit unsigned value (fc.integer stops at 2^31 - 1). */
const u32 = () => fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([hi, lo]) => hi * 65536 + lo);
/** A uniform position in [0, 1): unbiased, or fast-check's bias towards small values would keep every edit in the signature. */
const frac = () => fc.noBias(fc.integer({ min: 0, max: 1_000_000_000 - 1 })).map((x) => x / 1_000_000_000);
/** A "dimension" that is usually small, sometimes at or past the limits of its field. */
export const dimension = (max: number) => fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 2, arbitrary: max > 0x7fffffff ? u32().map((x) => Math.min(x, max)) : fc.integer({ min: 0, max }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, max, max - 1, 65535, 16383, 16384) .map((x) => Math.min(x, max)) },
);

/**
 * Hostile image bytes derived from `corpus`. The big inflates of zip-bomb PNGs are kept to a
 * few MB here (they are cheap to make and to refuse); tests add their own larger bombs.
 */
export function hostileImage(corpus: Corpus): fc.Arbitrary<{ kind: string; bytes: Uint8Array }> {
  const names = Object.keys(corpus);
  const jpegNames = names.filter((n) => corpus[n]![0] === 0xff);
  const pngNames = names.filter((n) => corpus[n]![0] === 0x89);
  const webpNames = names.filter((n) => corpus[n]![0] === 0x52);
  const seed = (from = names) => fc.constantFrom(...from).map((n) => corpus[n]!);
  const tag = (kind: string) => (bytes: Uint8Array) => ({ kind, bytes });
  return fc.oneof(
    // truncated at any point
    fc.tuple(seed(), frac()).map(([s, f]) => s.slice(0, Math.floor(s.length * f))).map(tag('truncated')),
    // bytes overwritten anywhere (markers, chunk lengths, entropy data)
    fc.tuple(seed(), fc.array(fc.tuple(frac(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }))
      .map(([s, edits]) => { const b = s.slice(); for (const [f, v] of edits) b[Math.floor(f * b.length)] = v; return b; }).map(tag('byte-edits')),
    // bytes overwritten in a PNG, then its CRCs made valid again (the inflater and filters see them)
    fc.tuple(seed(pngNames), fc.array(fc.tuple(frac(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }))
      .map(([s, edits]) => { const b = s.slice(); for (const [f, v] of edits) b[8 + Math.floor(f * (b.length - 8))] = v; return withValidCrcs(b); })
      .map(tag('png-edits-valid-crc')),
    // bytes overwritten in the first 64 bytes only (headers)
    fc.tuple(seed(), fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }))
      .map(([s, edits]) => { const b = s.slice(); for (const [i, v] of edits) b[i] = v; return b; }).map(tag('header-edits')),
    // corrupted entropy-coded data of a JPEG (headers intact, so the Huffman decoder sees it)
    fc.tuple(seed(jpegNames), fc.array(fc.tuple(frac(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 200 }))
      .map(([s, edits]) => {
        const b = s.slice(); const start = jpegScanStart(b);
        for (const [f, v] of edits) b[start + Math.floor(f * (b.length - start - 2))] = v;
        return b;
      }).map(tag('jpeg-entropy')),
    // a slice of the middle cut out
    fc.tuple(seed(), frac(), frac()).map(([s, f, g]) => {
      const i = Math.floor(s.length * Math.min(f, g)), j = Math.floor(s.length * Math.max(f, g));
      return new Uint8Array([...s.slice(0, i), ...s.slice(j)]);
    }).map(tag('spliced')),
    // a valid signature, then random bytes
    fc.tuple(seed(), fc.integer({ min: 2, max: 64 }), fc.uint8Array({ maxLength: 4096 })).map(([s, keep, rest]) => new Uint8Array([...s.slice(0, keep), ...rest])).map(tag('random-tail')),
    // lying JPEG frame sizes
    fc.tuple(seed(jpegNames), dimension(65535), dimension(65535)).map(([s, w, h]) => jpegWithSize(s, w, h)).map(tag('jpeg-size')),
    // lying PNG IHDR (any size, bit depth, colour type) with a valid CRC; IDAT of up to 4 MB zeros
    fc.tuple(dimension(2 ** 32 - 1), dimension(2 ** 32 - 1), fc.integer({ min: 0, max: 1 << 22 }), fc.constantFrom(1, 2, 4, 8, 16, 0, 3, 255), fc.constantFrom(0, 2, 3, 4, 6, 1, 7))
      .map(([w, h, n, d, c]) => lyingPng(w, h, n, d, c)).map(tag('png-ihdr')),
    // bad PNG chunk lengths (IHDR, IDAT, IEND... of a real PNG), including 2^31 and 2^32-1
    fc.tuple(seed(pngNames), fc.integer({ min: 0, max: 6 }), fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff)))
      .map(([s, n, len]) => pngWithChunkLength(s, n, len)).map(tag('png-chunk-length')),
    // IDAT length field larger than the file, on a small liar
    fc.tuple(dimension(4096), dimension(4096), u32()).map(([w, h, len]) => lyingPng(w, h, 64, 8, 2, len)).map(tag('png-idat-length')),
    // bad RIFF / chunk sizes of a real WebP
    fc.tuple(seed(webpNames), u32(), u32()).map(([s, r, c]) => webpWithSizes(s, r, c)).map(tag('webp-sizes')),
    // VP8X canvas of any size (24-bit fields) around random or real payloads
    fc.tuple(dimension(1 << 24), dimension(1 << 24), fc.oneof(fc.uint8Array({ maxLength: 512 }), seed(webpNames).map((s) => s.slice(12))))
      .map(([w, h, rest]) => vp8xWebp(w, h, rest)).map(tag('webp-vp8x')),
    // plain noise
    fc.uint8Array({ maxLength: 2048 }).map(tag('noise')),
  );
}
