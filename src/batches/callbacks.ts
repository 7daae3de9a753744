import { configFrom } from '../config';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { signatureHeaders } from '../lib/webhook-signature';
import { checkUrl, dohResolver } from '../net/safe-fetch';
import { backoffSeconds } from './backoff';
import { batchConfigFrom } from './config';
import { attemptsLogged, counts, getBatch, logDelivery, markCallbackQueued, nowIso, setCallbackState, takeCallbackLease } from './store';
import type { BatchRow, CallbackMessage } from './types';

const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed']);

/** The queue callbacks travel on (their own queue when bound, else the work queue). */
const callbackQueue = (env: Env) => env.CALLBACK_QUEUE ?? env.BATCH_QUEUE!;

/** Puts attempt `attempt` of a batch's callback on the queue, after `delaySeconds`. */
export async function queueCallback(env: Env, batchId: string, attempt: number, delaySeconds = 0): Promise<void> {
  const body: CallbackMessage = { kind: 'callback', batch_id: batchId, attempt };
  await callbackQueue(env).send(body, { contentType: 'json', ...(delaySeconds > 0 ? { delaySeconds } : {}) });
  if (attempt === 1) await markCallbackQueued(env.DB!, batchId);
}

/** The Standard Webhooks message id of a batch's completion callback: the same on every retry. */
export const callbackWebhookId = (batchId: string) => `msg_${batchId}`;

export async function callbackPayload(db: D1Database, b: BatchRow) {
  return {
    type: 'batch.completed',
    timestamp: b.completed_at ?? nowIso(),
    data: {
      id: b.id,
      status: b.status,
      counts: await counts(db, b),
      model: b.model,
      created_at: b.created_at,
      completed_at: b.completed_at,
      status_url: `${b.base_url}/v1/batches/${b.id}`,
      results_url: `${b.base_url}/v1/batches/${b.id}/results`,
      metadata: b.metadata === null ? null : JSON.parse(b.metadata),
    },
  };
}

/**
 * One delivery attempt of a completion callback. Every attempt is logged in D1 (status code
 * or error, duration, the delay before the next one). The batch row holds a lease
 * (callback_lease_until): while an attempt is in flight it covers the attempt's timeout, after
 * a failure it covers the backoff delay, so attempts are never closer than the backoff and
 * never concurrent, whatever duplicates the queue delivers. A failed attempt schedules the
 * next as a new delayed message; if that send fails, the queue's own retry of this message
 * takes its place.
 */
export async function deliverCallback(msg: Message<CallbackMessage>, env: Env): Promise<void> {
  const db = env.DB!;
  const bc = batchConfigFrom(env);
  const b = await getBatch(db, msg.body.batch_id);
  if (!b || !b.callback_url || !TERMINAL.has(b.status) || b.callback_state === 'delivered' || b.callback_state === 'failed') return msg.ack();
  const leaseSeconds = Math.ceil(bc.callbackTimeoutMs / 1000) + 5;
  const now = Date.now();
  if (!(await takeCallbackLease(db, b.id, now + leaseSeconds * 1000, now))) {
    // An attempt is in flight, or the backoff before the next one has not elapsed.
    const wait = b.callback_lease_until ? Math.ceil((b.callback_lease_until - now) / 1000) : leaseSeconds;
    return msg.retry({ delaySeconds: Math.min(leaseSeconds, Math.max(1, wait)) });
  }
  const attempt = (await attemptsLogged(db, b.id)) + 1;
  if (attempt > bc.callbackMaxAttempts) {
    await setCallbackState(db, b.id, 'failed');
    return msg.ack();
  }
  const webhookId = callbackWebhookId(b.id);
  const started = Date.now();
  let status: number | null = null;
  let error: string | null = null;
  let permanent = false;
  try {
    if (!env.CALLBACK_SECRET) {
      permanent = true;
      throw new Error('CALLBACK_SECRET is not configured; callbacks cannot be signed.');
    }
    const cfg = configFrom(env);
    const signal = AbortSignal.timeout(bc.callbackTimeoutMs);
    const fetchFn: typeof fetch = (i, init) => fetch(i, init);
    const url = await checkUrl(b.callback_url, { resolve: dohResolver(cfg.dnsResolverUrl, fetchFn), allowHttp: cfg.allowHttpUrls, timeoutMs: bc.callbackTimeoutMs }, signal)
      .catch((e) => { if (e instanceof ApiError && e.type === 'url-forbidden') permanent = true; throw e; });
    const body = JSON.stringify(await callbackPayload(db, b));
    const res = await fetchFn(url.href, {
      method: 'POST', redirect: 'manual', signal, body,
      headers: { 'content-type': 'application/json', 'user-agent': 'edge-vit-callbacks/1', ...(await signatureHeaders(env.CALLBACK_SECRET, webhookId, body)) },
    });
    status = res.status;
    await res.body?.cancel();
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (e) {
    const name = (e as Error)?.name;
    error = e instanceof ApiError ? `${e.type}: ${e.detail}` : name === 'TimeoutError' || name === 'AbortError'
      ? `timed out after ${bc.callbackTimeoutMs} ms` : String((e as Error)?.message ?? e).slice(0, 300);
  }
  const ok = error === null;
  const last = ok || permanent || attempt >= bc.callbackMaxAttempts;
  const next = last ? null : backoffSeconds(attempt, bc.callbackRetryBaseSeconds, bc.callbackRetryMaxSeconds);
  await logDelivery(db, b.id, { attempt, webhook_id: webhookId, at: new Date(started).toISOString(), status, ok: ok ? 1 : 0, error, duration_ms: Date.now() - started, next_retry_s: next });
  if (ok) await setCallbackState(db, b.id, 'delivered', true);
  else if (last) await setCallbackState(db, b.id, 'failed');
  else {
    await holdUntil(db, b.id, Date.now() + next! * 1000 - 500); // the delayed message may come a little early
    await queueCallback(env, b.id, attempt + 1, next!);
  }
  msg.ack();
}

async function holdUntil(db: D1Database, batchId: string, untilMs: number): Promise<void> {
  await db.prepare('UPDATE batches SET callback_lease_until = ? WHERE id = ?').bind(untilMs, batchId).run();
}

/** The dead-letter queue gave up on a callback message (the consumer kept crashing). */
export async function deadCallback(msg: Message<CallbackMessage>, env: Env): Promise<void> {
  const db = env.DB!;
  const b = await getBatch(db, msg.body.batch_id);
  if (b && b.callback_state !== 'delivered') {
    await logDelivery(db, b.id, { attempt: (await attemptsLogged(db, b.id)) + 1, webhook_id: callbackWebhookId(b.id), at: nowIso(), status: null, ok: 0, error: 'dead-lettered: the callback consumer failed repeatedly', duration_ms: 0, next_retry_s: null });
    await setCallbackState(db, b.id, 'failed');
  }
  msg.ack();
}
