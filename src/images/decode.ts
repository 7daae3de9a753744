import { ApiError } from '../errors';
import { decodeWith } from './codecs';
import { readHeader, sniffFormat } from './header';
import { DcError, decodeJpegDc } from './jpeg-dc';
import { applyOrientation } from './orientation';
import type { RgbaImage } from './types';

export interface DecodeLimits {
  maxPixels: number;
  /**
   * A JPEG of more than `reduceAbovePixels` pixels (0: never) is decoded at 1/8 scale
   * (src/images/jpeg-dc.ts) when that still leaves its shorter side at least `minShortSide`:
   * the caller's resize target, so that the reduced image is only ever downscaled further.
   */
  reduce?: { abovePixels: number; minShortSide: number };
}

/**
 * bytes -> upright RGBA. The pixel budget is checked from the header before the decoder runs,
 * and the decoded size must match the header (a lying header is a decode failure).
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<RgbaImage> {
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ApiError('unsupported-media-type', 'The body is not a JPEG, PNG or WebP image (checked by its magic bytes).');
  }
  const header = readHeader(bytes);
  if (!header) throw new ApiError('image-decode-failed', `The ${format.toUpperCase()} header is truncated or malformed.`);
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new ApiError('image-too-large',
      `The image is ${header.width}x${header.height} (${pixels} pixels); the limit is ${limits.maxPixels} pixels.`,
      { width: header.width, height: header.height, max_pixels: limits.maxPixels });
  }
  if (format === 'jpeg' && reducible(header.width, header.height, limits.reduce)) {
    const small = decodeReduced(bytes);
    if (small && (small.width !== Math.ceil(header.width / 8) || small.height !== Math.ceil(header.height / 8))) {
      throw new ApiError('image-decode-failed', 'The JPEG data does not match its header.');
    }
    if (small) return applyOrientation(small, header.orientation);
  }
  let decoded;
  try {
    // Copy into a fresh ArrayBuffer: the codecs want a whole ArrayBuffer, not a view.
    decoded = await decodeWith(format, bytes.slice().buffer);
  } catch (e) {
    throw new ApiError('image-decode-failed', `The ${format.toUpperCase()} data could not be decoded: ${messageOf(e)}`);
  }
  if (!decoded || decoded.width !== header.width || decoded.height !== header.height ||
      decoded.data.length !== header.width * header.height * 4) {
    throw new ApiError('image-decode-failed', `The ${format.toUpperCase()} data does not match its header.`);
  }
  const rgba = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  return applyOrientation({ width: decoded.width, height: decoded.height, data: rgba }, header.orientation);
}

function reducible(width: number, height: number, r: DecodeLimits['reduce']): boolean {
  if (!r || r.abovePixels <= 0 || width * height <= r.abovePixels) return false;
  return Math.min(Math.ceil(width / 8), Math.ceil(height / 8)) >= r.minShortSide;
}

/** The 1/8-scale decode, or null where that decoder declines the file (the full decode follows). */
function decodeReduced(bytes: Uint8Array): RgbaImage | null {
  try {
    return decodeJpegDc(bytes);
  } catch (e) {
    if (e instanceof DcError) throw new ApiError('image-decode-failed', `The JPEG data could not be decoded: ${e.message}`);
    throw e;
  }
}

function messageOf(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
