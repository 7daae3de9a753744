// Shared set-up for the batch tests: the real Worker in workerd with Miniflare's D1 (every
// migrations/*.sql applied), Queues (work, callbacks, R2 events, dead letters; the same Worker
// consumes them) and R2 (MODELS + UPLOADS). The Worker's outbound fetches land in `outbound`,
// which plays DNS-over-HTTPS, an image origin and the callback receiver.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { generateSecret } from '../../src/lib/webhook-signature';
import { startWorker, type Outbound, type TestWorker } from './worker';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

export const MODEL = 'squeezenet1.1-imagenet';
export const DLQ = 'edge-vit-dlq';

export interface BatchWorker extends TestWorker {
  db: D1Database;
  uploads: R2Bucket;
  webhookSecret: string;
  callbackSecret: string;
}

/** Statements of a .sql file: comments dropped, split on ';' at line ends. */
export function sqlStatements(sql: string): string[] {
  return sql.split('\n').map((l) => l.replace(/--.*$/, '')).join('\n').split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter(Boolean);
}

export async function applyMigrations(db: D1Database) {
  const dir = join(ROOT, 'migrations');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    for (const stmt of sqlStatements(readFileSync(join(dir, f), 'utf8'))) await db.prepare(stmt).run();
  }
}

/**
 * The batch path's Miniflare bindings in their plain form (D1, the model and uploads buckets, the
 * two queues, the item consumer), for tests that run the whole app without startBatchWorker's
 * fault and callback plumbing.
 */
export function batchBindings(maxRetries: number) {
  return {
    d1Databases: { DB: 'edge-vit-batches' },
    r2Buckets: { MODELS: 'edge-vit-models', UPLOADS: 'edge-vit-uploads' },
    queueProducers: { BATCH_QUEUE: { queueName: 'edge-vit-batches' }, CALLBACK_QUEUE: { queueName: 'edge-vit-callbacks' } },
    queueConsumers: { 'edge-vit-batches': { maxBatchSize: 4, maxBatchTimeout: 0.05, maxRetries } },
  };
}

export async function startBatchWorker(o: { vars?: Record<string, string>; outbound: Outbound; maxRetries?: number; maxBatchSize?: number }): Promise<BatchWorker> {
  const webhookSecret = generateSecret();
  const callbackSecret = generateSecret();
  const consumer = { maxBatchSize: o.maxBatchSize ?? 4, maxBatchTimeout: 0.05, maxRetries: o.maxRetries ?? 3, deadLetterQueue: DLQ };
  const w = await startWorker({
    models: [MODEL],
    outbound: o.outbound,
    vars: {
      DEFAULT_MODEL: MODEL, WEBHOOK_SECRET: webhookSecret, CALLBACK_SECRET: callbackSecret, DLQ_NAME: DLQ,
      BATCH_CHUNK_ITEMS: '5', BATCH_RETRY_BASE_SECONDS: '1', BATCH_RETRY_MAX_SECONDS: '2',
      CALLBACK_MAX_ATTEMPTS: '5', CALLBACK_RETRY_BASE_SECONDS: '1', CALLBACK_RETRY_MAX_SECONDS: '2', CALLBACK_TIMEOUT_MS: '3000',
      UPLOADS_PREFIX: 'uploads/', UPLOADS_MODEL: MODEL, UPLOADS_TOP_K: '3',
      ...o.vars,
    },
    miniflare: {
      d1Databases: { DB: 'edge-vit-batches' },
      r2Buckets: { MODELS: 'edge-vit-models', UPLOADS: 'edge-vit-uploads' },
      queueProducers: {
        BATCH_QUEUE: { queueName: 'edge-vit-batches' },
        CALLBACK_QUEUE: { queueName: 'edge-vit-callbacks' },
        // Not used by the Worker: lets the tests post R2 event notifications (Miniflare's R2 emits none).
        UPLOADS_EVENTS: { queueName: 'edge-vit-uploads' },
        // Not used by the Worker: lets the tests dead-letter a message by hand.
        DLQ_TEST: { queueName: DLQ },
      },
      queueConsumers: {
        'edge-vit-batches': consumer,
        'edge-vit-callbacks': { ...consumer, maxRetries: 10 },
        'edge-vit-uploads': consumer,
        [DLQ]: { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10 },
      },
    },
  });
  const db = (await w.mf.getD1Database('DB')) as unknown as D1Database;
  await applyMigrations(db);
  const uploads = (await w.mf.getR2Bucket('UPLOADS')) as unknown as R2Bucket;
  return Object.assign(w, { db, uploads, webhookSecret, callbackSecret });
}

/** A DNS-over-HTTPS answer: *.example.com is public, private.example.com is 10.0.0.7. */
export function dohAnswer(url: URL): Response | null {
  if (url.hostname !== 'cloudflare-dns.com') return null;
  const name = url.searchParams.get('name') ?? '';
  const type = url.searchParams.get('type');
  const ip = name === 'private.example.com' ? '10.0.0.7' : name.endsWith('.example.com') ? '93.184.216.34' : null;
  const answer = ip && type === 'A' ? [{ name, type: 1, data: ip }] : [];
  return new Response(JSON.stringify({ Status: 0, Answer: answer }), { headers: { 'content-type': 'application/dns-json' } });
}

export type Status = {
  id: string; status: string; counts: { total: number; done: number; failed: number; pending: number };
  created_at: string; started_at: string | null; completed_at: string | null; metadata: unknown; redelivered_items: number;
  callback: null | { url: string; state: string; delivered_at: string | null; deliveries: Array<{ attempt: number; status: number | null; ok: boolean; error: string | null; at: string; next_retry_s: number | null; webhook_id: string }> };
};

export async function waitFor(w: TestWorker, id: string, done: (s: Status) => boolean, timeoutMs = 120_000): Promise<Status> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await w.fetch(`/v1/batches/${id}`);
    const s = (await res.json()) as Status;
    if (res.status !== 200) throw new Error(`status ${res.status}: ${JSON.stringify(s)}`);
    if (done(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting on batch ${id}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const terminal = (s: Status) => ['completed', 'completed_with_errors', 'failed'].includes(s.status);

export type Line = { idx: number; id: string | null; ok: boolean; predictions?: Array<{ label: string; index: number; score: number }>; error?: { type: string; detail: string } };

export async function results(w: TestWorker, id: string, init?: RequestInit): Promise<Line[]> {
  const res = await w.fetch(`/v1/batches/${id}/results`, init);
  if (res.status !== 200) throw new Error(`results ${res.status}: ${await res.text()}`);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const text = await res.text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}
