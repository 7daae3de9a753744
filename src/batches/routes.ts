import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { hasScope } from '../auth/keys';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { Problem } from '../routes/schemas';
import { batchConfigFrom } from './config';
import { bindings, createBatch } from './create';
import { parseJson, readText } from './http';
import { BatchCreated, BatchStatus, CreateBatchBody } from './schemas';
import { counts, deliveries, getBatch, itemsPage } from './store';
import type { BatchRow } from './types';

const problems = Object.fromEntries(
  [[400, 'Invalid request'], [401, 'No or invalid API key'], [403, 'Missing scope'], [404, 'Unknown batch or model'], [409, 'Idempotency-Key reused with another body'], [413, 'Too many items'], [503, 'Batches not configured']]
    .map(([code, description]) => [code, { description, content: { 'application/problem+json': { schema: Problem } } }]),
) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;

const createBatchRoute = createRoute({
  method: 'post', path: '/v1/batches', summary: 'Submit a batch of images to classify asynchronously',
  description: 'Items are fanned out over Cloudflare Queues. Send an Idempotency-Key header: the same key and body return the same batch (200), the same key with another body is 409.',
  request: { headers: z.object({ 'idempotency-key': z.string().max(255).optional() }), body: { required: true, content: { 'application/json': { schema: CreateBatchBody } } } },
  responses: { 202: { description: 'Created', content: { 'application/json': { schema: BatchCreated } } }, 200: { description: 'Replay of an earlier request with the same Idempotency-Key', content: { 'application/json': { schema: BatchCreated } } }, ...problems },
});
const statusRoute = createRoute({
  method: 'get', path: '/v1/batches/{id}', summary: 'Status of a batch, with counts and the callback delivery log',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: 'Status', content: { 'application/json': { schema: BatchStatus } } }, ...problems },
});
const resultsRoute = createRoute({
  method: 'get', path: '/v1/batches/{id}/results', summary: 'Results as JSON Lines, one line per recorded item, in item order',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: '{"idx","id","ok":true,"predictions":[...]} or {"idx","id","ok":false,"error":{"type","detail"}} per line', content: { 'application/x-ndjson': { schema: z.string() } } }, ...problems },
});

export const createdBody = (b: BatchRow) => ({
  id: b.id, status: b.status, total: b.total,
  status_url: `${b.base_url}/v1/batches/${b.id}`, results_url: `${b.base_url}/v1/batches/${b.id}/results`,
});

/** The batch, if the caller may see it (its owner, or an admin key); otherwise 404 either way. */
async function ownBatch(c: Context<AppEnv>, id: string): Promise<BatchRow> {
  const { db } = bindings(c.env);
  const b = /^bat_[0-9a-f]{32}$/.test(id) ? await getBatch(db, id) : null;
  const p = c.get('principal');
  if (!b || !p || (b.owner !== p.id && !hasScope(p, 'admin'))) throw new ApiError('unknown-batch', `There is no batch "${id.slice(0, 100)}".`);
  return b;
}

export function registerBatches(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath(createBatchRoute);
  app.post(createBatchRoute.path, async (c) => {
    bindings(c.env);
    const key = c.req.header('idempotency-key') ?? null;
    if (key !== null && (key.length === 0 || key.length > 255)) throw new ApiError('invalid-request', 'Idempotency-Key must be 1..255 characters.');
    const req = parseJson(await readText(c, batchConfigFrom(c.env).maxBodyBytes), CreateBatchBody);
    const { batch, created } = await createBatch(c.env, req, { owner: c.get('principal')!.id, idemKey: key, source: 'api', baseUrl: new URL(c.req.url).origin });
    if (!created) c.header('idempotent-replayed', 'true');
    c.header('location', `/v1/batches/${batch.id}`);
    return c.json(createdBody(batch), created ? 202 : 200);
  });

  app.openAPIRegistry.registerPath(statusRoute);
  app.get('/v1/batches/:id', async (c) => {
    const b = await ownBatch(c, c.req.param('id'));
    const { db } = bindings(c.env);
    const [n, log] = await Promise.all([counts(db, b), b.callback_url ? deliveries(db, b.id) : Promise.resolve([])]);
    return c.json({
      id: b.id, status: b.status, source: b.source, model: b.model, counts: n,
      created_at: b.created_at, enqueued_at: b.enqueued_at, started_at: b.started_at, completed_at: b.completed_at,
      metadata: b.metadata === null ? null : JSON.parse(b.metadata),
      status_url: createdBody(b).status_url, results_url: createdBody(b).results_url,
      callback: b.callback_url ? {
        url: b.callback_url, state: b.callback_state, delivered_at: b.callback_delivered_at,
        deliveries: log.map((d) => ({ ...d, ok: d.ok === 1 })),
      } : null,
      redelivered_items: b.redelivered_items,
    });
  });

  app.openAPIRegistry.registerPath(resultsRoute);
  app.get('/v1/batches/:id/results', async (c) => {
    const b = await ownBatch(c, c.req.param('id'));
    const { db } = bindings(c.env);
    const uploads = c.env.UPLOADS;
    const enc = new TextEncoder();
    let after = -1;
    // Pulled a page at a time: memory stays flat for 10,000 items; each R2 result object (one
    // per queue message) is read once per page.
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const rows = await itemsPage(db, b.id, after, 500);
        if (rows.length === 0) return ctrl.close();
        after = rows[rows.length - 1]!.idx;
        const objects = new Map<string, Record<string, unknown> | null>();
        for (const key of new Set(rows.filter((r) => r.ok && r.result_key).map((r) => r.result_key!))) {
          const obj = uploads ? await uploads.get(key) : null;
          objects.set(key, obj ? await obj.json<Record<string, unknown>>() : null);
        }
        let out = '';
        for (const r of rows) {
          const line = r.ok
            ? (() => {
              const preds = objects.get(r.result_key!)?.[String(r.idx)];
              return preds === undefined
                ? { idx: r.idx, id: r.item_id, ok: false, error: { type: 'result-missing', detail: 'The stored result object is gone.' } }
                : { idx: r.idx, id: r.item_id, ok: true, predictions: preds };
            })()
            : { idx: r.idx, id: r.item_id, ok: false, error: { type: r.error_type, detail: r.error_detail } };
          out += JSON.stringify(line) + '\n';
        }
        ctrl.enqueue(enc.encode(out));
      },
    });
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-batch-status': b.status, 'cache-control': 'no-store' } });
  });

  app.get('/v1/uploads/tags', async (c) => {
    const { db } = bindings(c.env);
    const key = c.req.query('key');
    const label = c.req.query('label');
    if (!key && label) {
      // Objects whose top prediction is `label`, best first.
      const limit = Math.min(500, Math.max(1, Number(c.req.query('limit')) || 100));
      const { results } = await db.prepare('SELECT key, top_label, top_score, tagged_at FROM upload_tags WHERE top_label = ? ORDER BY top_score DESC LIMIT ?')
        .bind(label, limit).all<Record<string, unknown>>();
      return c.json({ label, objects: results.map((r) => ({ key: r.key, score: r.top_score, tagged_at: r.tagged_at })) });
    }
    if (!key) throw new ApiError('invalid-request', 'Give ?key=<object key> or ?label=<label>.');
    const row = await db.prepare('SELECT * FROM upload_tags WHERE key = ?').bind(key).first<Record<string, unknown>>();
    if (!row) throw new ApiError('not-found', `No tags for "${key.slice(0, 300)}" (not under the uploads prefix, or not tagged yet).`);
    return c.json({
      key: row.key, etag: row.etag, size: row.size, model: row.model,
      predictions: row.predictions ? JSON.parse(row.predictions as string) : null,
      error: row.error_type ? { type: row.error_type, detail: row.error_detail } : null,
      attempts: row.attempts, event_time: row.event_time, tagged_at: row.tagged_at,
    });
  });
}
