/** Bindings and variables the Worker receives; mirrors wrangler.toml. */
export interface Env {
  MODELS: R2Bucket;
  DEFAULT_MODEL: string;
  MAX_BODY_BYTES?: string;
  MAX_IMAGE_PIXELS?: string;
  REDUCE_ABOVE_PIXELS?: string;
  CORS_ALLOW_ORIGINS?: string;
  MAX_FULL_DECODE_PIXELS?: string;
  MAX_IMAGES_PER_REQUEST?: string;
  MAX_JSON_BYTES?: string;
  URL_FETCH_TIMEOUT_MS?: string;
  URL_MAX_REDIRECTS?: string;
  ALLOW_HTTP_URLS?: string;
  DNS_RESOLVER_URL?: string;
  /** API keys: KV key "sha256:<hex of the key>" -> {id, scopes, created} (src/auth/). */
  API_KEYS?: KVNamespace;
  /** Per-key token buckets (src/ratelimit/). Optional: absent -> no rate limiting. */
  RATE_LIMITER?: DurableObjectNamespace<import('./ratelimit/limiter').RateLimiter>;
  /** Requests without a valid key, per client address (Workers Rate Limiting; src/ratelimit/address.ts). Optional. */
  ANON_RATE_LIMIT?: RateLimit;
  /** Request counters (src/observability/). Optional. */
  ANALYTICS?: AnalyticsEngineDataset;
  /** The web page (wrangler.toml [assets]), served by the Worker for GET/HEAD (src/routes/assets.ts). */
  ASSETS?: Fetcher;
  AUTH_MODE?: string;
  PUBLIC_READS?: string;
  DEV_API_KEY_HASH?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  RATE_LIMIT_BURST?: string;
  REQUEST_LOGS?: string;
  MAX_JSON_DEPTH?: string;
  EDGE_MAX_MODEL_BYTES?: string;
  /** Open Inference Protocol v2 base URL for heavy-tier models (the container, Triton, KServe). */
  CONTAINER_URL?: string;
  CONTAINER_TIMEOUT_MS?: string;
  CONTAINER_RETRIES?: string;
  BREAKER_THRESHOLD?: string;
  BREAKER_COOLDOWN_MS?: string;
  /** Durable Object fronting the companion container (production environment only). */
  HEAVY_CONTAINER?: DurableObjectNamespace;
  /** Mounts /__bench/* measurement routes (npm run bench only). */
  BENCH_ROUTES?: string;
  // Batch tagging (src/batches/, docs/batches.md). All optional: without them the
  // batch and webhook routes answer 503 batches-unavailable and the rest of the Worker is unaffected.
  /** Batch, item, callback and upload-tag state (migrations/). */
  DB?: D1Database;
  /** Work queue: chunks of batch items, and the Worker consumes it (queue() in src/index.ts). */
  BATCH_QUEUE?: Queue;
  /** Outbound completion callbacks, retried with backoff through the queue. */
  CALLBACK_QUEUE?: Queue;
  /** Images named by r2_key, R2 event notifications' objects, and batch results (under _batches/). */
  UPLOADS?: R2Bucket;
  /** Standard Webhooks secrets, "whsec_<base64>" (wrangler secret put). */
  WEBHOOK_SECRET?: string;
  CALLBACK_SECRET?: string;
  BATCH_MAX_ITEMS?: string;
  BATCH_CHUNK_ITEMS?: string;
  BATCH_MAX_BODY_BYTES?: string;
  BATCH_RETRY_BASE_SECONDS?: string;
  BATCH_RETRY_MAX_SECONDS?: string;
  CALLBACK_MAX_ATTEMPTS?: string;
  CALLBACK_RETRY_BASE_SECONDS?: string;
  CALLBACK_RETRY_MAX_SECONDS?: string;
  CALLBACK_TIMEOUT_MS?: string;
  DLQ_NAME?: string;
  UPLOADS_PREFIX?: string;
  UPLOADS_MODEL?: string;
  UPLOADS_TOP_K?: string;
  /** Tests only: deliberate faults in the queue consumer (src/batches/faults.ts). Never set in wrangler.toml. */
  FAULT_INJECT?: string;
}

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; principal?: import('./auth/keys').Principal; serverTiming?: Array<[string, number]> };
};
