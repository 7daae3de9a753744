import { ApiError } from '../errors';
import { isForbiddenAddress, isForbiddenHostname, parseIPv4 } from './addresses';
import { readCapped } from '../lib/read-capped';

/** Resolves a hostname to IP addresses (injected so tests never touch real DNS). */
export type Resolver = (host: string, signal?: AbortSignal) => Promise<string[]>;

export interface SafeFetchOptions {
  fetch: typeof fetch;
  resolve: Resolver;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  allowHttp: boolean;
}

const IMAGE_TYPES = /^(image\/(jpeg|jpg|png|webp)|application\/octet-stream|binary\/octet-stream)\b/i;

/**
 * Fetches an image by URL without letting the URL reach anything private: every hop (the URL
 * and each redirect target) is checked for scheme, port, hostname and resolved addresses
 * BEFORE any connection is made. Bytes and time are capped.
 */
export async function safeFetchImage(raw: string, o: SafeFetchOptions): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let url = await checkUrl(raw, o, signal);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await o.fetch(url.href, { redirect: 'manual', signal, headers: { accept: 'image/jpeg,image/png,image/webp' } });
    } catch (e) {
      const timedOut = signal.aborted;
      throw new ApiError('url-fetch-failed', timedOut ? `Fetching the image timed out after ${o.timeoutMs} ms.` : 'The image URL could not be fetched.');
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (hop >= o.maxRedirects) throw new ApiError('url-fetch-failed', `More than ${o.maxRedirects} redirects.`);
      url = await checkUrl(new URL(res.headers.get('location')!, url).href, o, signal);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ApiError('url-fetch-failed', `The image URL answered HTTP ${res.status}.`, { upstream_status: res.status });
    }
    const type = res.headers.get('content-type') ?? '';
    if (!IMAGE_TYPES.test(type)) {
      await res.body?.cancel();
      throw new ApiError('unsupported-media-type', `The image URL served "${type.slice(0, 100) || 'no content type'}", not a JPEG, PNG or WebP image.`);
    }
    return readImage(res, o.maxBytes, signal);
  }
}

/**
 * The checks every hop of an image fetch gets (scheme, credentials, port, hostname, resolved
 * addresses), for other outbound requests to user-given URLs (batch completion callbacks).
 */
export async function checkUrl(raw: string, o: Pick<SafeFetchOptions, 'resolve' | 'allowHttp' | 'timeoutMs'>, signal: AbortSignal): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('invalid-request', 'The "url" is not a valid absolute URL.');
  }
  const forbid = (why: string) => new ApiError('url-forbidden', why, { url: url.href.slice(0, 300) });
  if (url.protocol !== 'https:' && !(o.allowHttp && url.protocol === 'http:')) throw forbid('Only https:// image URLs are allowed.');
  if (url.username || url.password) throw forbid('URLs with credentials are not allowed.');
  if (url.port !== '') throw forbid('Only the default port is allowed.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (parseIPv4(host) !== null || host.includes(':')) {
    if (isForbiddenAddress(host)) throw forbid('The URL points at a private, loopback, link-local or reserved address.');
    return url;
  }
  if (isForbiddenHostname(host)) throw forbid(`The host "${host}" is internal.`);
  let addresses: string[];
  try {
    addresses = await o.resolve(host, signal);
  } catch {
    throw new ApiError('url-fetch-failed', signal.aborted ? `Resolving "${host}" timed out after ${o.timeoutMs} ms.` : `The host "${host}" could not be resolved.`);
  }
  if (addresses.length === 0) throw new ApiError('url-fetch-failed', `The host "${host}" has no addresses.`);
  if (addresses.some(isForbiddenAddress)) throw forbid(`The host "${host}" resolves to a private or reserved address.`);
  return url;
}

async function readImage(res: Response, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new ApiError('payload-too-large', `The image at the URL is ${declared} bytes; the limit is ${maxBytes}.`);
  }
  // No body (e.g. 204): no bytes, so no magic bytes: refused by the decoder.
  try {
    return await readCapped(res.body, maxBytes, () => new ApiError('payload-too-large', `The image at the URL exceeds ${maxBytes} bytes.`));
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError('url-fetch-failed', signal.aborted ? 'Fetching the image timed out.' : 'The image download failed.');
  }
}

/** DNS over HTTPS (JSON API), A and AAAA. In production Cloudflare's resolver. */
export function dohResolver(endpoint: string, fetchFn: typeof fetch, timeoutMs = 3000): Resolver {
  return async (host, outer) => {
    // One deadline for the whole image fetch: the lookup ends when the caller's signal fires.
    const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const ask = async (type: 'A' | 'AAAA') => {
      const res = await fetchFn(`${endpoint}?name=${encodeURIComponent(host)}&type=${type}`, {
        headers: { accept: 'application/dns-json' }, signal,
      });
      if (!res.ok) throw new Error(`DoH ${res.status}`);
      const body = (await res.json()) as { Answer?: Array<{ type: number; data: string }> };
      const want = type === 'A' ? 1 : 28;
      return (body.Answer ?? []).filter((a) => a.type === want).map((a) => a.data);
    };
    const [a, aaaa] = await Promise.all([ask('A'), ask('AAAA')]);
    return [...a, ...aaaa];
  };
}
