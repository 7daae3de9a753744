import type { Config } from '../config';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { runPipeline } from '../inference/pipeline';
import type { Manifest } from '../models/manifest';
import { softmax, topK, type Prediction } from '../postprocess/classify';

/** What happened to one item: predictions, a final error, or an error worth retrying. */
export type ItemResult =
  | { kind: 'ok'; predictions: Prediction[] }
  | { kind: 'failed'; type: string; detail: string }
  | { kind: 'transient'; type: string; detail: string };

/** Errors that no retry can fix: the item is recorded as failed at once. */
const PERMANENT = new Set(['url-forbidden', 'invalid-request', 'unsupported-media-type', 'payload-too-large', 'image-too-large', 'image-decode-failed', 'unknown-model', 'object-not-found']);

export function classifyError(e: unknown): { kind: 'failed' | 'transient'; type: string; detail: string } {
  if (e instanceof ApiError) {
    if (PERMANENT.has(e.type)) return { kind: 'failed', type: e.type, detail: e.detail };
    const upstream = e.extra.upstream_status;
    if (e.type === 'url-fetch-failed' && typeof upstream === 'number' && upstream >= 400 && upstream < 500 && upstream !== 408 && upstream !== 429) {
      return { kind: 'failed', type: e.type, detail: e.detail };
    }
    return { kind: 'transient', type: e.type, detail: e.detail };
  }
  if (e instanceof ObjectNotFound) return { kind: 'failed', type: 'object-not-found', detail: e.message };
  return { kind: 'transient', type: 'internal-error', detail: String((e as Error)?.message ?? e).slice(0, 300) };
}

export class ObjectNotFound extends Error {}

async function r2Bytes(env: Env, cfg: Config, key: string): Promise<Uint8Array> {
  if (!env.UPLOADS) throw new ApiError('invalid-request', 'r2_key items need the UPLOADS bucket binding.');
  const obj = await env.UPLOADS.get(key);
  if (!obj) throw new ObjectNotFound(`No object "${key.slice(0, 300)}" in the uploads bucket.`);
  if (obj.size > cfg.maxBodyBytes) {
    await obj.body.cancel();
    throw new ApiError('payload-too-large', `The object is ${obj.size} bytes; the limit is ${cfg.maxBodyBytes}.`);
  }
  return new Uint8Array(await obj.arrayBuffer());
}

/**
 * One item through THE inference path (runPipeline): URLs through the SSRF-safe fetcher with
 * the synchronous API's limits, R2 keys from UPLOADS. Scores are post-processed exactly as
 * POST /v1/classify does, so a batch item and a synchronous request agree.
 */
export async function runItem(env: Env, cfg: Config, m: Manifest, item: { url?: string; r2_key?: string }, k: number, threshold: number): Promise<ItemResult> {
  try {
    const input = item.r2_key !== undefined ? { bytes: await r2Bytes(env, cfg, item.r2_key) } : { url: item.url! };
    const { output } = await runPipeline(env, cfg, m, [input], { wantEmbedding: false });
    const row = output.logits.subarray(0, output.classes);
    const scores = m.outputs.kind === 'logits' ? softmax(row) : row;
    return { kind: 'ok', predictions: topK(scores, m.labels, k, threshold) };
  } catch (e) {
    return classifyError(e);
  }
}
