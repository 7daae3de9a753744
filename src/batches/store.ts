import type { BatchRow, BatchStatus, ItemOutcome, ItemRow } from './types';

/**
 * D1 access for batches (schema: migrations/0001_batches.sql). Every write that the
 * at-least-once queue can repeat is idempotent: items are INSERT OR IGNORE on (batch_id, idx),
 * state transitions are conditional UPDATEs whose `changes` tells the one winner.
 */
export const nowIso = () => new Date().toISOString();

export async function getBatch(db: D1Database, id: string): Promise<BatchRow | null> {
  return db.prepare('SELECT * FROM batches WHERE id = ?').bind(id).first<BatchRow>();
}

export async function findByIdemKey(db: D1Database, owner: string, key: string): Promise<BatchRow | null> {
  return db.prepare('SELECT * FROM batches WHERE owner = ? AND idem_key = ?').bind(owner, key).first<BatchRow>();
}

export type NewBatch = Pick<BatchRow, 'id' | 'owner' | 'idem_key' | 'request_hash' | 'source' | 'model' | 'top_k' | 'threshold' | 'callback_url' | 'metadata' | 'base_url' | 'total'>;

/** Inserts the batch unless (owner, idem_key) exists. Returns true when this call created it. */
export async function insertBatch(db: D1Database, b: NewBatch): Promise<boolean> {
  const res = await db.prepare(
    `INSERT OR IGNORE INTO batches (id, owner, idem_key, request_hash, source, model, top_k, threshold, callback_url, metadata, base_url, total, status, created_at, callback_state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
  ).bind(b.id, b.owner, b.idem_key, b.request_hash, b.source, b.model, b.top_k, b.threshold, b.callback_url, b.metadata, b.base_url, b.total, nowIso(), b.callback_url ? 'pending' : null).run();
  return res.meta.changes === 1;
}

export async function markEnqueued(db: D1Database, id: string): Promise<void> {
  await db.prepare('UPDATE batches SET enqueued_at = ? WHERE id = ? AND enqueued_at IS NULL').bind(nowIso(), id).run();
}

/** idx of the items of [from, to] already recorded. */
export async function recordedIn(db: D1Database, batchId: string, from: number, to: number): Promise<Set<number>> {
  const { results } = await db.prepare('SELECT idx FROM batch_items WHERE batch_id = ? AND idx BETWEEN ? AND ?').bind(batchId, from, to).all<{ idx: number }>();
  return new Set(results.map((r) => r.idx));
}

/**
 * Writes outcomes once each (INSERT OR IGNORE: a redelivered message cannot write an item
 * twice), in one transaction with the queued -> running transition and the diagnostics counter.
 * Returns how many rows this call actually wrote.
 */
export async function recordItems(db: D1Database, batchId: string, outcomes: ItemOutcome[], resultKey: string | null, attempts: number): Promise<number> {
  if (outcomes.length === 0) return 0;
  const at = nowIso();
  const stmts = outcomes.map((o) => o.ok
    ? db.prepare('INSERT OR IGNORE INTO batch_items (batch_id, idx, item_id, ok, result_key, attempts, finished_at) VALUES (?, ?, ?, 1, ?, ?, ?)')
      .bind(batchId, o.idx, o.item_id, resultKey, attempts, at)
    : db.prepare('INSERT OR IGNORE INTO batch_items (batch_id, idx, item_id, ok, error_type, error_detail, attempts, finished_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?)')
      .bind(batchId, o.idx, o.item_id, o.error_type, o.error_detail.slice(0, 1000), attempts, at));
  stmts.push(db.prepare("UPDATE batches SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'").bind(at, batchId));
  const res = await db.batch(stmts);
  let written = 0;
  for (let i = 0; i < outcomes.length; i++) written += res[i]!.meta.changes;
  if (written < outcomes.length) {
    await db.prepare('UPDATE batches SET redelivered_items = redelivered_items + ? WHERE id = ?').bind(outcomes.length - written, batchId).run();
  }
  return written;
}

export async function noteSkipped(db: D1Database, batchId: string, n: number): Promise<void> {
  if (n > 0) await db.prepare('UPDATE batches SET redelivered_items = redelivered_items + ? WHERE id = ?').bind(n, batchId).run();
}

/** Remembers an item's latest transient error (the dead-letter consumer records it as final). */
export async function noteTransientErrors(db: D1Database, batchId: string, errs: Array<{ idx: number; type: string; detail: string }>, attempts: number): Promise<void> {
  if (errs.length === 0) return;
  const at = nowIso();
  await db.batch(errs.map((e) => db.prepare(
    `INSERT INTO item_errors (batch_id, idx, attempts, error_type, error_detail, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (batch_id, idx) DO UPDATE SET attempts = excluded.attempts, error_type = excluded.error_type, error_detail = excluded.error_detail, updated_at = excluded.updated_at`,
  ).bind(batchId, e.idx, attempts, e.type, e.detail.slice(0, 1000), at)));
}

export async function transientErrors(db: D1Database, batchId: string, from: number, to: number): Promise<Map<number, { type: string; detail: string; attempts: number }>> {
  const { results } = await db.prepare('SELECT idx, error_type, error_detail, attempts FROM item_errors WHERE batch_id = ? AND idx BETWEEN ? AND ?')
    .bind(batchId, from, to).all<{ idx: number; error_type: string; error_detail: string; attempts: number }>();
  return new Map(results.map((r) => [r.idx, { type: r.error_type, detail: r.error_detail, attempts: r.attempts }]));
}

export interface Counts { total: number; done: number; failed: number; pending: number }

export async function counts(db: D1Database, b: Pick<BatchRow, 'id' | 'total'>): Promise<Counts> {
  const row = await db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(ok), 0) AS ok FROM batch_items WHERE batch_id = ?').bind(b.id).first<{ n: number; ok: number }>();
  const n = row?.n ?? 0, ok = row?.ok ?? 0;
  return { total: b.total, done: ok, failed: n - ok, pending: b.total - n };
}

/**
 * When every item is recorded, moves the batch to its final status. Exactly one caller wins
 * the transition (conditional UPDATE); it is told so, and the final status.
 */
export async function completeIfDone(db: D1Database, b: Pick<BatchRow, 'id' | 'total'>): Promise<{ won: boolean; status: BatchStatus | null }> {
  const c = await counts(db, b);
  if (c.pending > 0) return { won: false, status: null };
  const status: BatchStatus = c.failed === 0 ? 'completed' : c.done === 0 ? 'failed' : 'completed_with_errors';
  const at = nowIso();
  const res = await db.prepare(
    "UPDATE batches SET status = ?, completed_at = ?, started_at = COALESCE(started_at, ?) WHERE id = ? AND status IN ('queued', 'running')",
  ).bind(status, at, at, b.id).run();
  return { won: res.meta.changes === 1, status };
}

/** Items in idx order, a page at a time (results streaming). */
export async function itemsPage(db: D1Database, batchId: string, afterIdx: number, limit: number): Promise<ItemRow[]> {
  const { results } = await db.prepare('SELECT * FROM batch_items WHERE batch_id = ? AND idx > ? ORDER BY idx LIMIT ?').bind(batchId, afterIdx, limit).all<ItemRow>();
  return results;
}

export interface DeliveryRow { attempt: number; webhook_id: string; at: string; status: number | null; ok: number; error: string | null; duration_ms: number; next_retry_s: number | null }

export async function deliveries(db: D1Database, batchId: string): Promise<DeliveryRow[]> {
  const { results } = await db.prepare('SELECT attempt, webhook_id, at, status, ok, error, duration_ms, next_retry_s FROM callback_deliveries WHERE batch_id = ? ORDER BY seq').bind(batchId).all<DeliveryRow>();
  return results;
}

export async function logDelivery(db: D1Database, batchId: string, d: DeliveryRow): Promise<void> {
  await db.prepare('INSERT INTO callback_deliveries (batch_id, attempt, webhook_id, at, status, ok, error, duration_ms, next_retry_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(batchId, d.attempt, d.webhook_id, d.at, d.status, d.ok, d.error, d.duration_ms, d.next_retry_s).run();
}

export async function attemptsLogged(db: D1Database, batchId: string): Promise<number> {
  const r = await db.prepare('SELECT COALESCE(MAX(attempt), 0) AS n FROM callback_deliveries WHERE batch_id = ?').bind(batchId).first<{ n: number }>();
  return r?.n ?? 0;
}

/** Takes the one-delivery-in-flight lease; false when another attempt holds it or it is already delivered. */
export async function takeCallbackLease(db: D1Database, batchId: string, untilMs: number, nowMs = Date.now()): Promise<boolean> {
  const r = await db.prepare(
    "UPDATE batches SET callback_lease_until = ? WHERE id = ? AND callback_state IN ('pending', 'queued') AND (callback_lease_until IS NULL OR callback_lease_until < ?)",
  ).bind(untilMs, batchId, nowMs).run();
  return r.meta.changes === 1;
}

export async function setCallbackState(db: D1Database, batchId: string, state: 'pending' | 'queued' | 'delivered' | 'failed', delivered = false): Promise<void> {
  await db.prepare('UPDATE batches SET callback_state = ?, callback_lease_until = NULL, callback_delivered_at = CASE WHEN ? THEN ? ELSE callback_delivered_at END WHERE id = ?')
    .bind(state, delivered ? 1 : 0, nowIso(), batchId).run();
}

/** pending -> queued once the callback job is on the queue (never overwrites delivered/failed). */
export async function markCallbackQueued(db: D1Database, batchId: string): Promise<void> {
  await db.prepare("UPDATE batches SET callback_state = 'queued' WHERE id = ? AND callback_state = 'pending'").bind(batchId).run();
}
