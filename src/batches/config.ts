import type { Env } from '../env';

/** Batch tagging configuration; the defaults mirror wrangler.toml [vars]. */
export interface BatchConfig {
  /** Items per batch (POST /v1/batches, webhooks); more -> 413 batch-too-large. */
  maxItems: number;
  /** Items per queue message. Bounded so a message stays far below 128 KB and one consumer
   *  invocation (max_batch_size messages) stays below the subrequest limit. */
  chunkItems: number;
  /** Cap on the JSON body of POST /v1/batches and the ingest webhook. */
  maxBodyBytes: number;
  /** Item retries: delay = min(max, base * 2^(attempt-1)), with jitter (src/batches/backoff.ts). */
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** Completion callbacks: attempts in all, backoff, per-attempt timeout. */
  callbackMaxAttempts: number;
  callbackRetryBaseSeconds: number;
  callbackRetryMaxSeconds: number;
  callbackTimeoutMs: number;
  /** The dead-letter queue's name: messages arriving from it are recorded as failures. */
  dlqName: string;
  /** R2 event notifications: only keys under this prefix are tagged. */
  uploadsPrefix: string;
  uploadsModel: string;
  uploadsTopK: number;
}

function int(value: string | undefined, fallback: number, min = 0): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n >= min ? Math.floor(n) : fallback;
}

export function batchConfigFrom(env: Env): BatchConfig {
  return {
    maxItems: int(env.BATCH_MAX_ITEMS, 10_000, 1),
    chunkItems: Math.min(100, int(env.BATCH_CHUNK_ITEMS, 20, 1)),
    maxBodyBytes: int(env.BATCH_MAX_BODY_BYTES, 16 * 1024 * 1024, 1),
    retryBaseSeconds: int(env.BATCH_RETRY_BASE_SECONDS, 10),
    retryMaxSeconds: int(env.BATCH_RETRY_MAX_SECONDS, 600),
    callbackMaxAttempts: int(env.CALLBACK_MAX_ATTEMPTS, 8, 1),
    callbackRetryBaseSeconds: int(env.CALLBACK_RETRY_BASE_SECONDS, 30),
    callbackRetryMaxSeconds: int(env.CALLBACK_RETRY_MAX_SECONDS, 3600),
    callbackTimeoutMs: int(env.CALLBACK_TIMEOUT_MS, 10_000, 1),
    dlqName: env.DLQ_NAME || 'edge-vit-dlq',
    uploadsPrefix: env.UPLOADS_PREFIX ?? 'uploads/',
    uploadsModel: env.UPLOADS_MODEL || env.DEFAULT_MODEL || 'convmixer-cifar10',
    uploadsTopK: Math.min(100, int(env.UPLOADS_TOP_K, 5, 1)),
  };
}
