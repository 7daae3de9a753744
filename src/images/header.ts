/**
 * Reads format and dimensions from an image's header without decoding it, so that
 * decompression bombs are refused before a decoder allocates anything.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** EXIF orientation 1..8 (JPEG APP1, PNG eXIf before the image data, WebP EXIF; 1 when absent). */
  orientation: number;
}

export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 &&
      b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  return null;
}

/** Returns null when the header is truncated or malformed. */
export function readHeader(b: Uint8Array): ImageHeader | null {
  const format = sniffFormat(b);
  if (format === 'png') return pngHeader(b);
  if (format === 'jpeg') return jpegHeader(b);
  if (format === 'webp') return webpHeader(b);
  return null;
}

function ascii(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);

function pngHeader(b: Uint8Array): ImageHeader | null {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return null;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  return width > 0 && height > 0 ? { format: 'png', width, height, orientation: pngOrientation(b) } : null;
}

/** Chunk headers walked from IHDR to the first IDAT, at most this many (each jump is O(1)). */
const MAX_HEADER_CHUNKS = 64;

/** An eXIf chunk's orientation, read where PNG puts it: before the first IDAT. */
function pngOrientation(b: Uint8Array): number {
  for (let off = 8, i = 0; off + 8 <= b.length && i < MAX_HEADER_CHUNKS; i++) {
    const len = u32be(b, off), type = ascii(b, off + 4, 4);
    if (type === 'IDAT' || off + 8 + len > b.length) break;
    if (type === 'eXIf') return exifOrientation(b, off + 8, off + 8 + len) ?? 1;
    off += 12 + len;
  }
  return 1;
}

// SOF markers that carry frame dimensions (all except DHT C4, JPG C8, DAC CC).
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegHeader(b: Uint8Array): ImageHeader | null {
  let off = 2;
  let orientation = 1;
  while (off + 4 <= b.length) {
    if (b[off] !== 0xff) return null;
    const marker = b[off + 1]!;
    if (marker === 0xff) { off++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { off += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return null; // no frame header before scan data
    const len = u16be(b, off + 2);
    if (len < 2 || off + 2 + len > b.length) return null;
    if (marker === 0xe1 && ascii(b, off + 4, 6) === 'Exif\0\0') orientation = exifOrientation(b, off + 4, off + 2 + len) ?? orientation;
    if (SOF.has(marker)) {
      if (len < 7) return null;
      const height = u16be(b, off + 5);
      const width = u16be(b, off + 7);
      return width > 0 && height > 0 ? { format: 'jpeg', width, height, orientation } : null;
    }
    off += 2 + len;
  }
  return null;
}

/**
 * The orientation tag (0x0112) of EXIF data in b[start, end): a TIFF structure, optionally behind
 * JPEG's "Exif\0\0" prefix (PNG's eXIf and WebP's EXIF chunks are bare TIFF, though some writers
 * keep the prefix; PIL accepts both). null when absent or malformed.
 */
export function exifOrientation(b: Uint8Array, start: number, end: number): number | null {
  const t = ascii(b, start, 6) === 'Exif\0\0' ? start + 6 : start;
  if (end - t < 8 || end > b.length) return null;
  const le = ascii(b, t, 2) === 'II';
  if (!le && ascii(b, t, 2) !== 'MM') return null;
  const r16 = (o: number) => (le ? u16le(b, o) : u16be(b, o));
  const r32 = (o: number) => (le ? (u16le(b, o) | (u16le(b, o + 2) << 16)) >>> 0 : u32be(b, o));
  const ifd = t + r32(t + 4);
  if (ifd + 2 > end) return null;
  const count = r16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) return null;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

function webpHeader(b: Uint8Array): ImageHeader | null {
  if (b.length < 30) return null;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Key frame start code 9d 01 2a then 14-bit width/height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    const width = u16le(b, 26) & 0x3fff;
    const height = u16le(b, 28) & 0x3fff;
    return width && height ? { format: 'webp', width, height, orientation: 1 } : null;
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return null;
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, orientation: 1 };
  }
  if (chunk === 'VP8X') {
    return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, orientation: webpOrientation(b) };
  }
  return null;
}

/** The EXIF chunk's orientation of an extended (VP8X) WebP; libwebp's muxer writes it after the image data. */
function webpOrientation(b: Uint8Array): number {
  for (let off = 12, i = 0; off + 8 <= b.length && i < MAX_HEADER_CHUNKS; i++) {
    const len = u16le(b, off + 4) + u16le(b, off + 6) * 65536;
    if (off + 8 + len > b.length) break;
    if (ascii(b, off, 4) === 'EXIF') return exifOrientation(b, off + 8, off + 8 + len) ?? 1;
    off += 8 + len + (len & 1); // chunks are padded to even sizes
  }
  return 1;
}
