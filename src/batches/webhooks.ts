import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { verify } from '../lib/webhook-signature';
import { Problem } from '../routes/schemas';
import { batchConfigFrom } from './config';
import { bindings, createBatch } from './create';
import { parseJson, readText } from './http';
import { createdBody } from './routes';
import { BatchCreated, IngestBody } from './schemas';

const route = createRoute({
  method: 'post', path: '/v1/webhooks/ingest', summary: 'Signed webhook (Standard Webhooks) that creates a batch',
  description: 'Authenticated by webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with WEBHOOK_SECRET over "id.timestamp.body"), not an API key. The timestamp must be within 5 minutes; a replayed webhook-id returns the batch it created (200).',
  request: {
    headers: z.object({ 'webhook-id': z.string(), 'webhook-timestamp': z.string(), 'webhook-signature': z.string() }),
    body: { required: true, content: { 'application/json': { schema: IngestBody } } },
  },
  responses: {
    202: { description: 'Batch created', content: { 'application/json': { schema: BatchCreated } } },
    200: { description: 'Replayed webhook-id: the batch it created', content: { 'application/json': { schema: BatchCreated } } },
    401: { description: 'invalid-signature or stale-webhook', content: { 'application/problem+json': { schema: Problem } } },
  },
});

export function registerWebhooks(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, async (c) => {
    bindings(c.env);
    const secret = c.env.WEBHOOK_SECRET;
    if (!secret) throw new ApiError('batches-unavailable', 'Webhook ingestion is not configured (WEBHOOK_SECRET).');
    const text = await readText(c, batchConfigFrom(c.env).maxBodyBytes);
    let v;
    try {
      v = await verify(secret, c.req.raw.headers, text);
    } catch (e) {
      console.error(JSON.stringify({ level: 'error', msg: 'WEBHOOK_SECRET is unusable', error: String((e as Error)?.message ?? e) }));
      throw new ApiError('batches-unavailable', 'Webhook ingestion is misconfigured.');
    }
    if (!v.ok) throw new ApiError(v.reason === 'stale' ? 'stale-webhook' : 'invalid-signature', v.detail);
    const body = parseJson(text, IngestBody);
    const { items = [], urls = [], r2_keys = [], ...options } = body;
    const all = [...items, ...urls.map((url) => ({ url })), ...r2_keys.map((r2_key) => ({ r2_key }))];
    if (all.length === 0) throw new ApiError('invalid-request', 'The webhook names no items (items, urls or r2_keys).');
    // The webhook-id is the idempotency key: a replay (the sender retrying) returns the same batch.
    const { batch, created } = await createBatch(c.env, { ...options, items: all }, { owner: 'webhook', idemKey: v.id, source: 'webhook', baseUrl: new URL(c.req.url).origin });
    if (!created) c.header('idempotent-replayed', 'true');
    return c.json(createdBody(batch), created ? 202 : 200);
  });
}
