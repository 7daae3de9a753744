import { configFrom } from '../config';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { getManifest } from '../models/registry';
import type { Manifest } from '../models/manifest';
import { backoffSeconds } from './backoff';
import { deadCallback, deliverCallback, queueCallback } from './callbacks';
import { batchConfigFrom } from './config';
import { InjectedFault, faultsFrom, shouldCrash } from './faults';
import { classifyError, runItem } from './items';
import { completeIfDone, getBatch, noteSkipped, noteTransientErrors, recordItems, recordedIn, transientErrors } from './store';
import type { CallbackMessage, ChunkMessage, ItemOutcome } from './types';
import { isR2Event, tagUpload, deadUpload, type R2EventMessage } from './uploads';

/**
 * The Worker's queue() handler: work-queue chunks, completion callbacks and R2 event
 * notifications, told apart by their body; messages from the dead-letter queue (queue name ==
 * DLQ_NAME) are recorded as failures, never dropped. Every message is acked or retried
 * explicitly, one at a time, so a crash loses nothing already acked and redoes nothing
 * already recorded (item writes are idempotent).
 */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (!env.DB) throw new Error('queue() needs the D1 binding DB');
  const bc = batchConfigFrom(env);
  const faults = faultsFrom(env);
  const dead = batch.queue === bc.dlqName;
  let handled = 0;
  for (const msg of batch.messages) {
    if (!dead && faults.throwInvocation && handled === 1 && msg.attempts === 1) {
      throw new InjectedFault('queue() invocation crashed with messages not yet acked');
    }
    handled++;
    try {
      await handleMessage(msg, env, dead);
    } catch (e) {
      const delaySeconds = backoffSeconds(msg.attempts, bc.retryBaseSeconds, bc.retryMaxSeconds);
      console.error(JSON.stringify({ level: 'error', msg: 'queue message failed; retrying', queue: batch.queue, id: msg.id, attempts: msg.attempts, delaySeconds, error: String((e as Error)?.message ?? e) }));
      msg.retry({ delaySeconds });
    }
  }
}

async function handleMessage(msg: Message<unknown>, env: Env, dead: boolean): Promise<void> {
  const body = msg.body as { kind?: string };
  if (body?.kind === 'chunk') return dead ? deadChunk(msg as Message<ChunkMessage>, env) : handleChunk(msg as Message<ChunkMessage>, env);
  if (body?.kind === 'callback') return dead ? deadCallback(msg as Message<CallbackMessage>, env) : deliverCallback(msg as Message<CallbackMessage>, env);
  if (isR2Event(body)) return dead ? deadUpload(msg as Message<R2EventMessage>, env) : tagUpload(msg as Message<R2EventMessage>, env);
  console.error(JSON.stringify({ level: 'error', msg: 'unknown queue message dropped', id: msg.id, body: JSON.stringify(body).slice(0, 300) }));
  msg.ack();
}

const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed']);

/** Classifies a chunk's items not yet recorded; records finals; retries the message for transient errors. */
async function handleChunk(msg: Message<ChunkMessage>, env: Env): Promise<void> {
  const db = env.DB!;
  const bc = batchConfigFrom(env);
  const { batch_id, start, items } = msg.body;
  const b = await getBatch(db, batch_id);
  if (!b) return msg.ack();
  const end = start + items.length - 1;
  const recorded = TERMINAL.has(b.status) ? null : await recordedIn(db, batch_id, start, end);
  const todo = recorded === null ? [] : items.map((it, i) => ({ it, idx: start + i })).filter((x) => !recorded.has(x.idx));
  await noteSkipped(db, batch_id, items.length - todo.length);

  const outcomes: ItemOutcome[] = [];
  const predictions: Record<number, unknown> = {};
  const transient: Array<{ idx: number; type: string; detail: string }> = [];
  if (todo.length) {
    let m: Manifest | null = null;
    try {
      m = await getManifest(env.MODELS, b.model);
    } catch (e) {
      const c = classifyError(e);
      if (c.kind === 'transient') throw e; // model-unavailable: retry the whole message later
      for (const { it, idx } of todo) outcomes.push({ idx, item_id: it.id ?? null, ok: false, error_type: c.type, error_detail: c.detail });
    }
    if (m) {
      const cfg = configFrom(env);
      for (const { it, idx } of todo) {
        const r = await runItem(env, cfg, m, it, b.top_k, b.threshold);
        if (r.kind === 'ok') {
          outcomes.push({ idx, item_id: it.id ?? null, ok: true, predictions: r.predictions });
          predictions[idx] = r.predictions;
        } else if (r.kind === 'failed') {
          outcomes.push({ idx, item_id: it.id ?? null, ok: false, error_type: r.type, error_detail: r.detail });
        } else {
          transient.push({ idx, type: r.type, detail: r.detail });
        }
      }
    }
  }
  // Predictions go to R2 first (one object per message attempt), then the rows that point at
  // them: a row never names an object that was not written.
  let resultKey: string | null = null;
  if (Object.keys(predictions).length) {
    if (!env.UPLOADS) throw new ApiError('batches-unavailable', 'Batch results need the R2 binding UPLOADS.');
    resultKey = `_batches/${batch_id}/${String(start).padStart(6, '0')}-${msg.id}-${msg.attempts}.json`;
    await env.UPLOADS.put(resultKey, JSON.stringify(predictions), { httpMetadata: { contentType: 'application/json' } });
  }
  const faults = faultsFrom(env);
  if (shouldCrash(faults, msg.id, msg.attempts)) {
    await recordItems(db, batch_id, outcomes.slice(0, faults.crashAfter!), resultKey, msg.attempts);
    throw new InjectedFault(`chunk ${batch_id}@${start} crashed after recording ${Math.min(faults.crashAfter!, outcomes.length)} items`);
  }
  await recordItems(db, batch_id, outcomes, resultKey, msg.attempts);
  if (transient.length) {
    await noteTransientErrors(db, batch_id, transient, msg.attempts);
    msg.retry({ delaySeconds: backoffSeconds(msg.attempts, bc.retryBaseSeconds, bc.retryMaxSeconds) });
    return;
  }
  await afterProgress(env, batch_id);
  msg.ack();
}

/** The queue gave up on a chunk: every item of it not yet recorded is recorded as failed, with its last error. */
async function deadChunk(msg: Message<ChunkMessage>, env: Env): Promise<void> {
  const db = env.DB!;
  const { batch_id, start, items } = msg.body;
  const b = await getBatch(db, batch_id);
  if (!b) return msg.ack();
  const end = start + items.length - 1;
  const recorded = await recordedIn(db, batch_id, start, end);
  const errors = await transientErrors(db, batch_id, start, end);
  const outcomes: ItemOutcome[] = [];
  items.forEach((it, i) => {
    const idx = start + i;
    if (recorded.has(idx)) return;
    const e = errors.get(idx);
    outcomes.push({
      idx, item_id: it.id ?? null, ok: false,
      error_type: e?.type ?? 'dead-lettered',
      error_detail: e ? `${e.detail} (gave up after ${e.attempts} attempts)` : 'The work queue gave up on this item after repeated consumer failures.',
    });
  });
  await recordItems(db, batch_id, outcomes, null, Math.max(msg.attempts, ...[...errors.values()].map((e) => e.attempts)));
  await afterProgress(env, batch_id);
  msg.ack();
}

/** Completes the batch once every item is recorded; the one winner enqueues the callback. */
async function afterProgress(env: Env, batchId: string): Promise<void> {
  const db = env.DB!;
  const b = await getBatch(db, batchId);
  if (!b) return;
  const { won, status } = await completeIfDone(db, b);
  if (!status || !b.callback_url) return;
  // The winner enqueues; a later message finding the callback still 'pending' (the winner
  // crashed between the two writes) enqueues it again; duplicates are harmless (lease).
  if (won || b.callback_state === 'pending') await queueCallback(env, batchId, 1);
}
