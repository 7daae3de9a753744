import type { Context } from 'hono';
import type { z } from 'zod';
import type { Config } from '../config';
import { parseJsonText } from '../lib/json';
import { readCapped } from '../lib/read-capped';
import { ApiError } from '../errors';
import type { AppEnv } from '../env';
import { dohResolver, safeFetchImage } from '../net/safe-fetch';
import { JsonImageBody } from './schemas';

/** An image to process: bytes already in hand, or a URL to fetch safely. */
export type ImageInput = { bytes: Uint8Array } | { url: string };

export interface ParsedRequest<T> { images: ImageInput[]; options: T }

const RAW_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp']);

/**
 * Turns any of the accepted request forms (multipart, raw image body, JSON) into a list of
 * images plus validated options. Options come from the query string, overridden by body fields.
 */
export async function parseImageRequest<S extends z.ZodTypeAny>(c: Context<AppEnv>, cfg: Config, schema: S): Promise<ParsedRequest<z.infer<S>>> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(c.req.header('content-length'));
  const cap = type === 'application/json' ? cfg.maxJsonBytes : cfg.maxBodyBytes;
  if (Number.isFinite(declared) && declared > cap) {
    throw new ApiError('payload-too-large', `The body is ${declared} bytes; the limit is ${cap}.`, { max_bytes: cap });
  }
  const fields: Record<string, unknown> = { ...c.req.query() };
  let images: ImageInput[];
  if (RAW_TYPES.has(type)) {
    images = [{ bytes: await readBody(c.req.raw, cap) }];
  } else if (type === 'multipart/form-data') {
    images = await fromMultipart(c.req.raw, cap, fields);
  } else if (type === 'application/json') {
    images = await fromJson(c.req.raw, cap, cfg.maxJsonDepth, fields);
  } else {
    throw new ApiError('unsupported-media-type',
      `Send multipart/form-data (field "image"), a raw image/jpeg, image/png or image/webp body, or application/json; got "${type || 'none'}".`);
  }
  if (images.length === 0) throw new ApiError('invalid-request', 'No image in the request (multipart field "image", raw body, or JSON "image"/"url").');
  if (images.length > cfg.maxImagesPerRequest) {
    throw new ApiError('too-many-images', `${images.length} images in one request; the limit is ${cfg.maxImagesPerRequest}.`);
  }
  const parsed = schema.safeParse(fields);
  if (!parsed.success) throw invalid(parsed.error);
  return { images, options: parsed.data };
}

export function invalid(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  return new ApiError('invalid-request', first ? `${first.path || 'body'}: ${first.message}` : 'Invalid request.', { errors: issues });
}

function readBody(req: Request, cap: number): Promise<Uint8Array> {
  return readCapped(req.body, cap, () => new ApiError('payload-too-large', `The body exceeds ${cap} bytes.`, { max_bytes: cap }));
}

async function fromMultipart(req: Request, cap: number, fields: Record<string, unknown>): Promise<ImageInput[]> {
  const body = await readBody(req, cap);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': req.headers.get('content-type')! } }).formData();
  } catch {
    throw new ApiError('invalid-request', 'The multipart body is malformed.');
  }
  const images: ImageInput[] = [];
  for (const [name, value] of form.entries()) {
    if (name === 'image') {
      if (typeof value === 'string') throw new ApiError('invalid-request', 'The "image" field must be a file, not text.');
      images.push({ bytes: new Uint8Array(await (value as Blob).arrayBuffer()) });
    } else if (name === 'url' && typeof value === 'string') {
      images.push({ url: value });
    } else if (typeof value === 'string') {
      fields[name] = value;
    }
  }
  return images;
}

async function fromJson(req: Request, cap: number, maxDepth: number, fields: Record<string, unknown>): Promise<ImageInput[]> {
  const json = parseJsonText(new TextDecoder().decode(await readBody(req, cap)), maxDepth);
  const parsed = JsonImageBody.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error);
  const { image, url, ...rest } = parsed.data;
  Object.assign(fields, rest);
  if (image !== undefined && url !== undefined) throw new ApiError('invalid-request', 'Give either "image" or "url", not both.');
  if (image !== undefined) return [{ bytes: decodeBase64(image) }];
  if (url !== undefined) return [{ url }];
  return [];
}

function decodeBase64(s: string): Uint8Array {
  const b64 = s.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new ApiError('invalid-request', '"image" is not valid base64.');
  try {
    const bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new ApiError('invalid-request', '"image" is not valid base64.');
  }
}

/** Resolves URL inputs to bytes through the SSRF-safe fetcher; bytes pass through. */
// workerd's fetch throws "Illegal invocation" unless called unbound, hence the arrow.
export async function materialize(input: ImageInput, cfg: Config, fetchFn: typeof fetch = (i, init) => fetch(i, init)): Promise<Uint8Array> {
  if ('bytes' in input) return input.bytes;
  return safeFetchImage(input.url, {
    fetch: fetchFn,
    resolve: dohResolver(cfg.dnsResolverUrl, fetchFn),
    maxBytes: cfg.maxBodyBytes,
    timeoutMs: cfg.urlFetchTimeoutMs,
    maxRedirects: cfg.urlMaxRedirects,
    allowHttp: cfg.allowHttpUrls,
  });
}
