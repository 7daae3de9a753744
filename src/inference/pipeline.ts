import type { Config } from '../config';
import type { Env } from '../env';
import { decodeImage } from '../images/decode';
import type { Manifest } from '../models/manifest';
import { ApiError } from '../errors';
import { getManifest, listManifests } from '../models/registry';
import { resizeTarget, resizedRgb, writeNormalized } from '../preprocess/tensor';
import { viewCount, writeViews, type View } from '../preprocess/views';
import { meanOverViews } from '../postprocess/views';
import type { ImageInput } from '../routes/inputs';
import { materialize } from '../routes/inputs';
import type { ModelOutput } from './backend';
import { backendFor } from './select';
import { isolateCpu } from './cpu-gate';

export interface Timings { fetch?: number; decode: number; preprocess: number; inference: number; total: number }

export interface RunOptions {
  wantEmbedding: boolean;
  /** Apply the manifest's test-time views (default true); false: one forward pass per image. */
  tta?: boolean;
}

/**
 * The one path every image takes, for the HTTP routes and the batch consumer alike:
 * bytes (or URL) -> decode -> manifest-driven preprocessing (+ test-time views) -> backend ->
 * raw outputs (averaged over the views).
 */
export async function runPipeline(env: Env, cfg: Config, m: Manifest, inputs: ImageInput[], opts: RunOptions): Promise<{ output: ModelOutput; timings: Timings; views: View[] }> {
  const t0 = performance.now();
  const p = m.preprocess;
  const views = opts.tta === false ? [] : m.tta;
  const k = viewCount(views);
  const per = 3 * p.size * p.size;
  const batch = new Float32Array(per * inputs.length * k);
  let decodeMs = 0, preprocessMs = 0, fetchMs = 0;
  // Sequential on purpose: one image's bytes and RGBA are dropped before the next is fetched
  // (memory). Fetching a URL is I/O and stays outside the CPU gate.
  for (let i = 0; i < inputs.length; i++) {
    const a = performance.now();
    const bytes = await materialize(inputs[i]!, cfg);
    fetchMs += performance.now() - a;
    await isolateCpu.run(async () => {
      const b = performance.now();
      const img = await decodeImage(bytes, {
        maxPixels: cfg.maxImagePixels, maxFullPixels: cfg.maxFullDecodePixels,
        reduce: { abovePixels: cfg.reduceAbovePixels, minShortSide: resizeTarget(p) },
      });
      const c = performance.now();
      writeNormalized(resizedRgb(img, p), p, m.input.layout, batch, i * k);
      writeViews(batch, i * k, p.size, m.input.layout, views);
      decodeMs += c - b; preprocessMs += performance.now() - c;
    });
  }
  const e = performance.now();
  const raw = await backendFor(m, env).run(m, { data: batch, batch: inputs.length * k }, { wantEmbedding: opts.wantEmbedding });
  const output = meanOverViews(raw, k);
  const f = performance.now();
  const timings: Timings = { decode: r(decodeMs), preprocess: r(preprocessMs), inference: r(f - e), total: r(f - t0) };
  if (inputs.some((x) => 'url' in x)) timings.fetch = r(fetchMs);
  return { output, timings, views };
}

const r = (ms: number) => Math.round(ms * 100) / 100;

export interface FallbackReport { from: string; to: string; reason: string }

/**
 * runPipeline, plus the opt-in `fallback=edge`: when a heavy model is unavailable, serve the
 * request with an edge model of the same family and label set, and say so in the response.
 */
export async function runWithFallback(env: Env, cfg: Config, m: Manifest, inputs: ImageInput[], opts: RunOptions & { fallback: 'none' | 'edge' }) {
  try {
    return { manifest: m, ...(await runPipeline(env, cfg, m, inputs, opts)), fallback: null as FallbackReport | null };
  } catch (e) {
    if (opts.fallback !== 'edge' || m.tier !== 'heavy' || !(e instanceof ApiError) || e.type !== 'model-unavailable') throw e;
    const edge = await edgeFallbackFor(env, m);
    if (!edge) throw e;
    const result = await runPipeline(env, cfg, edge, inputs, opts);
    return { manifest: edge, ...result, fallback: { from: m.id, to: edge.id, reason: e.detail } };
  }
}

async function edgeFallbackFor(env: Env, m: Manifest): Promise<Manifest | null> {
  if (m.fallback) return getManifest(env.MODELS, m.fallback).catch(() => null);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const all = await listManifests(env.MODELS);
  return all.find((x) => x.tier === 'edge' && x.family === m.family && same(x.labels, m.labels)) ?? null;
}
