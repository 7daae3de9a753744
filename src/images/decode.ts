import { ApiError } from '../errors';
import { decodeWith, type CodecFormat } from './codecs';
import { readHeader, sniffFormat, type ImageFormat } from './header';
import { JpegReduceError, decodeJpegReduced } from './jpeg-reduced';
import { PngError, decodePng } from './png';
import { applyOrientation } from './orientation';
import type { RgbaImage } from './types';

export interface DecodeLimits {
  maxPixels: number;
  /**
   * The budget for an image that has to be decoded at full size (WebP; a JPEG or PNG that cannot
   * be reduced for this model): its RGBA and the decoder's heap are each about 4 bytes a pixel,
   * in a 128 MB isolate. Defaults to maxPixels.
   */
  maxFullPixels?: number;
  /**
   * Images of more than `abovePixels` pixels (0: never) are decoded reduced when the reduced
   * image still covers `minShortSide` (the caller's resize target), so that it is only ever
   * downscaled further: a JPEG at 1/8, 1/4 or 1/2 scale from its DCT coefficients (the smallest
   * of those that still reaches the target; src/images/jpeg-reduced.ts), a PNG box-reduced by the largest integer
   * factor that leaves at least twice the target, while it inflates (src/images/png.ts).
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
  const factor = reductionFactor(format, header.width, header.height, limits.reduce);
  const maxFull = limits.maxFullPixels ?? limits.maxPixels;
  if (format === 'png' && factor === 1) checkFullSize(header, maxFull); // the PNG decoder's full size
  // PNG is decoded here in JavaScript (src/images/png.ts), reduced or not; JPEG and WebP by the
  // WASM codecs, except a JPEG that can be decoded reduced (src/images/jpeg-reduced.ts).
  const own = format === 'png' || factor > 1 ? decodeOwn(format, bytes, factor) : null;
  if (own) {
    if (own.width !== Math.ceil(header.width / factor) || own.height !== Math.ceil(header.height / factor)) {
      throw new ApiError('image-decode-failed', `The ${format.toUpperCase()} data does not match its header.`);
    }
    return applyOrientation(own, header.orientation);
  }
  // The WASM codecs decode at full size: WebP, a JPEG not reducible here, or one the reduced
  // decoder declined (arithmetic coding, CMYK, a progressive file over its coefficient budget).
  checkFullSize(header, maxFull);
  let decoded;
  try {
    // Copy into a fresh ArrayBuffer: the codecs want a whole ArrayBuffer, not a view.
    decoded = await decodeWith(format as CodecFormat, bytes.slice().buffer); // a PNG returned above
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

function checkFullSize(h: { width: number; height: number }, maxFull: number): void {
  const pixels = h.width * h.height;
  if (pixels <= maxFull) return;
  throw new ApiError('image-too-large',
    `The image is ${h.width}x${h.height} (${pixels} pixels); it would have to be decoded at full size, where the limit is ${maxFull} pixels ` +
    '(larger JPEGs and PNGs are decoded reduced when the model\'s input size allows it).',
    { width: h.width, height: h.height, max_pixels: maxFull });
}

/** The reduction factor for this image (1: decode in full). */
export function reductionFactor(format: ImageFormat, width: number, height: number, r: DecodeLimits['reduce']): number {
  if (!r || r.abovePixels <= 0 || width * height <= r.abovePixels || r.minShortSide < 1) return 1;
  const short = Math.min(width, height);
  if (format === 'jpeg') return [8, 4, 2].find((denom) => Math.ceil(short / denom) >= r.minShortSide) ?? 1;
  if (format === 'png') return Math.max(1, Math.floor(short / (2 * r.minShortSide)));
  return 1;
}

/** Our own decoders: PNG at any factor, JPEG at 1/2, 1/4 or 1/8; null where the JPEG one declines a file. */
function decodeOwn(format: ImageFormat, bytes: Uint8Array, factor: number): RgbaImage | null {
  try {
    return format === 'png' ? decodePng(bytes, factor) : decodeJpegReduced(bytes, factor as 2 | 4 | 8);
  } catch (e) {
    if (e instanceof JpegReduceError || e instanceof PngError) {
      throw new ApiError('image-decode-failed', `The ${format.toUpperCase()} data could not be decoded: ${e.message}`);
    }
    throw e;
  }
}

function messageOf(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
