import { ApiError } from '../errors';
import { decodeWith } from './codecs';
import { readHeader, sniffFormat } from './header';
import { applyOrientation } from './orientation';
import type { RgbaImage } from './types';

export interface DecodeLimits {
  maxPixels: number;
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

function messageOf(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
