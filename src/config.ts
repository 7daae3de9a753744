import type { Env } from './env';

/** Typed view of the Worker's configuration; the defaults mirror wrangler.toml. */
export interface Config {
  defaultModel: string;
  maxBodyBytes: number;
  maxImagePixels: number;
  maxImagesPerRequest: number;
  maxJsonBytes: number;
  urlFetchTimeoutMs: number;
  urlMaxRedirects: number;
  allowHttpUrls: boolean;
  dnsResolverUrl: string;
}

function int(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

export function configFrom(env: Env): Config {
  return {
    defaultModel: env.DEFAULT_MODEL || 'convmixer-cifar10',
    maxBodyBytes: int(env.MAX_BODY_BYTES, 10 * 1024 * 1024),
    maxImagePixels: int(env.MAX_IMAGE_PIXELS, 40_000_000),
    maxImagesPerRequest: int(env.MAX_IMAGES_PER_REQUEST, 16),
    maxJsonBytes: int(env.MAX_JSON_BYTES, 14 * 1024 * 1024),
    urlFetchTimeoutMs: int(env.URL_FETCH_TIMEOUT_MS, 8000),
    urlMaxRedirects: int(env.URL_MAX_REDIRECTS, 3),
    allowHttpUrls: env.ALLOW_HTTP_URLS === 'true',
    dnsResolverUrl: env.DNS_RESOLVER_URL || 'https://cloudflare-dns.com/dns-query',
  };
}
