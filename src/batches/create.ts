import { configFrom } from '../config';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { getManifest } from '../models/registry';
import { checkUrl, dohResolver } from '../net/safe-fetch';
import { batchConfigFrom } from './config';
import { faultsFrom } from './faults';
import { findByIdemKey, getBatch, insertBatch, markEnqueued } from './store';
import type { BatchRow, ChunkMessage, ItemSpec } from './types';

export interface BatchRequest {
  items: ItemSpec[];
  model?: string;
  top_k: number;
  threshold: number;
  callback_url?: string;
  metadata?: unknown;
}

export interface Bindings { db: D1Database; queue: Queue }

/** The bindings batches need; a deployment without them answers 503 on these routes only. */
export function bindings(env: Env): Bindings {
  if (!env.DB || !env.BATCH_QUEUE) throw new ApiError('batches-unavailable', 'Batches are not configured on this deployment (D1 binding DB and queue BATCH_QUEUE).');
  return { db: env.DB, queue: env.BATCH_QUEUE };
}

/** JSON with object keys sorted, so that the same request always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export const newBatchId = () => 'bat_' + crypto.randomUUID().replace(/-/g, '');

/**
 * Creates a batch (or returns the one this idempotency key already made) and puts its items
 * on the work queue in chunks. If an earlier call stored the batch but failed before every
 * chunk was accepted (enqueued_at still NULL), the repeat call enqueues again: duplicate
 * chunks are harmless because item writes are idempotent.
 */
export async function createBatch(env: Env, req: BatchRequest, o: { owner: string; idemKey: string | null; source: 'api' | 'webhook'; baseUrl: string }): Promise<{ batch: BatchRow; created: boolean }> {
  const { db, queue } = bindings(env);
  const bc = batchConfigFrom(env);
  const cfg = configFrom(env);
  if (req.items.length > bc.maxItems) {
    throw new ApiError('batch-too-large', `${req.items.length} items in one batch; the limit is ${bc.maxItems}.`, { max_items: bc.maxItems });
  }
  const model = req.model ?? cfg.defaultModel;
  const hash = await sha256Hex(canonicalJson({ ...req, model }));
  if (o.idemKey) {
    const existing = await findByIdemKey(db, o.owner, o.idemKey);
    if (existing) return { batch: await resumeOrConflict(env, existing, hash, req.items), created: false };
  }
  await getManifest(env.MODELS, model); // unknown-model (404) now, not 10,000 failed items later
  if (req.callback_url) {
    // The same checks as an image URL; repeated at delivery time (DNS may change meanwhile).
    const signal = AbortSignal.timeout(cfg.urlFetchTimeoutMs);
    await checkUrl(req.callback_url, { resolve: dohResolver(cfg.dnsResolverUrl, (i, init) => fetch(i, init)), allowHttp: cfg.allowHttpUrls, timeoutMs: cfg.urlFetchTimeoutMs }, signal);
  }
  const row = {
    id: newBatchId(), owner: o.owner, idem_key: o.idemKey, request_hash: hash, source: o.source, model,
    top_k: req.top_k, threshold: req.threshold, callback_url: req.callback_url ?? null,
    metadata: req.metadata === undefined ? null : JSON.stringify(req.metadata), base_url: o.baseUrl, total: req.items.length,
  };
  if (!(await insertBatch(db, row))) {
    // Lost a race with a concurrent request carrying the same key.
    const existing = await findByIdemKey(db, o.owner, o.idemKey!);
    if (!existing) throw new Error('batch insert ignored but no batch holds the key');
    return { batch: await resumeOrConflict(env, existing, hash, req.items), created: false };
  }
  await enqueueChunks(env, queue, row.id, req.items);
  await markEnqueued(db, row.id);
  return { batch: (await getBatch(db, row.id))!, created: true };
}

async function resumeOrConflict(env: Env, b: BatchRow, hash: string, items: ItemSpec[]): Promise<BatchRow> {
  if (b.request_hash !== hash) {
    throw new ApiError('idempotency-conflict', 'This Idempotency-Key was already used with a different request body.', { batch_id: b.id });
  }
  if (b.enqueued_at === null) {
    const { db, queue } = bindings(env);
    await enqueueChunks(env, queue, b.id, items);
    await markEnqueued(db, b.id);
    return (await getBatch(db, b.id))!;
  }
  return b;
}

/** Queue messages must stay under 128 KB: a chunk also ends before its JSON passes this. */
const MAX_MESSAGE_BYTES = 96_000;

/** Contiguous chunks of at most chunkItems items and MAX_MESSAGE_BYTES of JSON. */
export function chunk(items: ItemSpec[], chunkItems: number): Array<{ start: number; items: ItemSpec[] }> {
  const out: Array<{ start: number; items: ItemSpec[] }> = [];
  let cur: ItemSpec[] = [];
  let start = 0, bytes = 0;
  items.forEach((it, i) => {
    const size = JSON.stringify(it).length + 1;
    if (cur.length && (cur.length >= chunkItems || bytes + size > MAX_MESSAGE_BYTES)) {
      out.push({ start, items: cur });
      cur = []; bytes = 0; start = i;
    }
    cur.push(it);
    bytes += size;
  });
  if (cur.length) out.push({ start, items: cur });
  return out;
}

/** One message per chunk; sendBatch calls of at most 100 messages and ~200 KB. */
export async function enqueueChunks(env: Env, queue: Queue, batchId: string, items: ItemSpec[]): Promise<void> {
  const bc = batchConfigFrom(env);
  const dup = faultsFrom(env).dupSend;
  let group: MessageSendRequest<ChunkMessage>[] = [];
  let bytes = 0;
  const flush = async () => {
    if (group.length) await queue.sendBatch(group);
    group = [];
    bytes = 0;
  };
  for (const c of chunk(items, bc.chunkItems)) {
    const body: ChunkMessage = { kind: 'chunk', batch_id: batchId, start: c.start, items: c.items };
    const size = JSON.stringify(body).length + 100;
    for (let copy = 0; copy < (dup ? 2 : 1); copy++) {
      if (group.length >= 100 || bytes + size > 200_000) await flush();
      group.push({ body, contentType: 'json' });
      bytes += size;
    }
  }
  await flush();
}
