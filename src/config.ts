import type { Env } from './env';

/** Typed view of the Worker's configuration; the defaults mirror wrangler.toml. */
export interface Config {
  defaultModel: string;
  maxBodyBytes: number;
  maxImagePixels: number;
  /** JPEGs and PNGs above this many pixels are decoded reduced where the model's input allows (0: never). */
  reduceAbovePixels: number;
  /** Images decoded at full size (WebP, or not reducible for the model) may have at most this many pixels. */
  maxFullDecodePixels: number;
  maxImagesPerRequest: number;
  maxJsonBytes: number;
  urlFetchTimeoutMs: number;
  urlMaxRedirects: number;
  allowHttpUrls: boolean;
  dnsResolverUrl: string;
  /** 'keys' (default; anything but 'off' fails closed) or 'off' behind your own gateway. */
  authMode: 'keys' | 'off';
  /** GET /v1/models*, /healthz, /readyz, /openapi.json and / without a key. */
  publicReads: boolean;
  /** Per-key token bucket: refill per minute (0 disables) and burst size. */
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  /** One JSON log line per request. */
  requestLogs: boolean;
  maxJsonDepth: number;
  /** Edge-tier ONNX files above this are refused: ORT needs about 2-3x the file in an isolate of 128 MB. */
  edgeMaxModelBytes: number;
  /** Origins browsers may call the API from: ["*"], a list, or [] (no CORS headers). */
  corsAllowOrigins: string[];
  /** Heavy tier: OIP v2 base URL, per-attempt timeout, retries, circuit breaker. */
  containerUrl: string;
  containerTimeoutMs: number;
  containerRetries: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
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
    reduceAbovePixels: int(env.REDUCE_ABOVE_PIXELS, 4_000_000),
    maxFullDecodePixels: int(env.MAX_FULL_DECODE_PIXELS, 16_000_000),
    maxImagesPerRequest: int(env.MAX_IMAGES_PER_REQUEST, 16),
    maxJsonBytes: int(env.MAX_JSON_BYTES, 14 * 1024 * 1024),
    urlFetchTimeoutMs: int(env.URL_FETCH_TIMEOUT_MS, 8000),
    urlMaxRedirects: int(env.URL_MAX_REDIRECTS, 3),
    allowHttpUrls: env.ALLOW_HTTP_URLS === 'true',
    dnsResolverUrl: env.DNS_RESOLVER_URL || 'https://cloudflare-dns.com/dns-query',
    containerUrl: env.CONTAINER_URL ?? '',
    containerTimeoutMs: int(env.CONTAINER_TIMEOUT_MS, 15000),
    containerRetries: int(env.CONTAINER_RETRIES, 1),
    breakerThreshold: Math.max(1, int(env.BREAKER_THRESHOLD, 3)),
    breakerCooldownMs: int(env.BREAKER_COOLDOWN_MS, 15000),
    authMode: env.AUTH_MODE === 'off' ? 'off' : 'keys',
    publicReads: env.PUBLIC_READS === 'true',
    rateLimitPerMinute: int(env.RATE_LIMIT_PER_MINUTE, 600),
    rateLimitBurst: Math.max(1, int(env.RATE_LIMIT_BURST, 120)),
    requestLogs: env.REQUEST_LOGS !== 'false',
    maxJsonDepth: Math.max(1, int(env.MAX_JSON_DEPTH, 32)),
    edgeMaxModelBytes: int(env.EDGE_MAX_MODEL_BYTES, 48 * 1024 * 1024),
    corsAllowOrigins: (env.CORS_ALLOW_ORIGINS ?? '*').split(',').map((o) => o.trim()).filter(Boolean),
  };
}
