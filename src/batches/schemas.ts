import { z } from '@hono/zod-openapi';

/** Request and response schemas of the batch API (validated here; the source of /openapi.json). */
export const BatchItem = z.object({
  id: z.string().max(256).optional().openapi({ description: 'Your id for the item, echoed in results' }),
  url: z.string().min(1).max(2048).optional().openapi({ description: 'https URL of an image (fetched with the same SSRF checks and limits as /v1/classify)' }),
  r2_key: z.string().min(1).max(1024).optional().openapi({ description: 'Key of an object in the uploads bucket' }),
}).strict().refine((x) => (x.url === undefined) !== (x.r2_key === undefined), { message: 'each item needs exactly one of "url" or "r2_key"' });

export const BatchOptions = {
  model: z.string().max(100).optional().openapi({ description: 'Model id; default: the default model' }),
  top_k: z.number().int().min(1).max(100).default(5),
  threshold: z.number().min(0).max(1).default(0),
  callback_url: z.string().max(2048).optional().openapi({ description: 'https URL POSTed a signed (Standard Webhooks) batch.completed event on completion' }),
  metadata: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Returned as given in the status and the callback (at most 16 KB of JSON)' }),
};

export const CreateBatchBody = z.object({
  items: z.array(BatchItem).min(1).openapi({ description: 'Up to BATCH_MAX_ITEMS (default 10,000) items; more: 413 batch-too-large' }),
  ...BatchOptions,
}).strict().openapi('CreateBatch');

/** Ingest webhook body: items, or the shorthands urls / r2_keys (concatenated in that order). */
export const IngestBody = z.object({
  items: z.array(BatchItem).optional(),
  urls: z.array(z.string().min(1).max(2048)).optional(),
  r2_keys: z.array(z.string().min(1).max(1024)).optional(),
  ...BatchOptions,
}).strict().openapi('IngestWebhook');

export const BatchCreated = z.object({
  id: z.string(), status: z.string(), total: z.number().int(), status_url: z.string(), results_url: z.string(),
}).openapi('BatchCreated');

export const BatchStatus = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'completed_with_errors', 'failed']),
  source: z.string(),
  model: z.string(),
  counts: z.object({ total: z.number().int(), done: z.number().int(), failed: z.number().int(), pending: z.number().int() }),
  created_at: z.string(), enqueued_at: z.string().nullable(), started_at: z.string().nullable(), completed_at: z.string().nullable(),
  metadata: z.unknown(),
  status_url: z.string(), results_url: z.string(),
  callback: z.object({
    url: z.string(), state: z.string().nullable(), delivered_at: z.string().nullable(),
    deliveries: z.array(z.object({ attempt: z.number().int(), webhook_id: z.string(), at: z.string(), status: z.number().int().nullable(), ok: z.boolean(), error: z.string().nullable(), duration_ms: z.number().int(), next_retry_s: z.number().int().nullable() })),
  }).nullable(),
  redelivered_items: z.number().int(),
}).openapi('BatchStatus');
