import { configFrom } from '../config';
import type { Env } from '../env';
import { getManifest } from '../models/registry';
import { backoffSeconds } from './backoff';
import { batchConfigFrom } from './config';
import { classifyError, runItem } from './items';
import { nowIso } from './store';

/** An R2 event notification as delivered to a queue (developers.cloudflare.com/r2/buckets/event-notifications). */
export interface R2EventMessage {
  account: string;
  action: 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload' | 'DeleteObject' | 'LifecycleDeletion' | string;
  bucket: string;
  object: { key: string; size?: number; eTag?: string };
  eventTime?: string;
  copySource?: { bucket: string; object: string };
}

export function isR2Event(b: unknown): b is R2EventMessage {
  const x = b as R2EventMessage;
  return !!x && typeof x === 'object' && typeof x.action === 'string' && typeof x.bucket === 'string' && !!x.object && typeof x.object.key === 'string';
}

const CREATES = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);
const DELETES = new Set(['DeleteObject', 'LifecycleDeletion']);

/**
 * Tags a new object under UPLOADS_PREFIX with UPLOADS_MODEL; the tags are upserted by key
 * (a redelivered event writes the same row again). Deletions drop the row. Other keys (batch
 * results under _batches/, other prefixes) are ignored.
 */
export async function tagUpload(msg: Message<R2EventMessage>, env: Env): Promise<void> {
  const bc = batchConfigFrom(env);
  const ev = msg.body;
  const key = ev.object.key;
  if (!key.startsWith(bc.uploadsPrefix) || key.startsWith('_batches/')) return msg.ack();
  const db = env.DB!;
  if (DELETES.has(ev.action)) {
    await db.prepare('DELETE FROM upload_tags WHERE key = ?').bind(key).run();
    return msg.ack();
  }
  if (!CREATES.has(ev.action)) return msg.ack();
  const cfg = configFrom(env);
  let r;
  try {
    const m = await getManifest(env.MODELS, bc.uploadsModel);
    r = await runItem(env, cfg, m, { r2_key: key }, bc.uploadsTopK, 0);
  } catch (e) {
    r = classifyError(e);
  }
  if (r.kind === 'transient') {
    msg.retry({ delaySeconds: backoffSeconds(msg.attempts, bc.retryBaseSeconds, bc.retryMaxSeconds) });
    return;
  }
  await upsert(db, ev, bc.uploadsModel, r.kind === 'ok' ? { predictions: r.predictions } : { type: r.type, detail: r.detail }, msg.attempts);
  msg.ack();
}

/** The queue gave up on an event: the object is recorded with the error, never dropped. */
export async function deadUpload(msg: Message<R2EventMessage>, env: Env): Promise<void> {
  const bc = batchConfigFrom(env);
  const ev = msg.body;
  if (ev.object.key.startsWith(bc.uploadsPrefix) && CREATES.has(ev.action)) {
    await upsert(env.DB!, ev, bc.uploadsModel, { type: 'dead-lettered', detail: 'Tagging failed repeatedly; the queue gave up on this event.' }, msg.attempts);
  }
  msg.ack();
}

type Tagged = { predictions: Array<{ label: string; index: number; score: number }> } | { type: string; detail: string };

async function upsert(db: D1Database, ev: R2EventMessage, model: string, t: Tagged, attempts: number): Promise<void> {
  const ok = 'predictions' in t;
  const top = ok ? t.predictions[0] : undefined;
  await db.prepare(
    `INSERT INTO upload_tags (key, etag, size, model, predictions, top_label, top_score, error_type, error_detail, attempts, event_time, tagged_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, size = excluded.size, model = excluded.model, predictions = excluded.predictions,
       top_label = excluded.top_label, top_score = excluded.top_score, error_type = excluded.error_type, error_detail = excluded.error_detail,
       attempts = excluded.attempts, event_time = excluded.event_time, tagged_at = excluded.tagged_at`,
  ).bind(ev.object.key, ev.object.eTag ?? '', ev.object.size ?? null, model, ok ? JSON.stringify(t.predictions) : null, top?.label ?? null, top?.score ?? null,
    ok ? null : t.type, ok ? null : t.detail.slice(0, 1000), attempts, ev.eventTime ?? null, nowIso()).run();
}
