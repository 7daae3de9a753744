import { configFrom, type Config } from '../config';
import { ApiError } from '../errors';
import type { Env } from '../env';
import type { Manifest } from '../models/manifest';
import type { Backend } from './backend';
import { CircuitBreaker } from './breaker';
import { ContainerBackend } from './container';
import { OrtWasmBackend } from './ort-wasm';

const breakers = new Map<string, CircuitBreaker>();

/** The backend for a model, by its manifest's tier (never by family or name). */
export function backendFor(m: Manifest, env: Env, cfg: Config = configFrom(env)): Backend {
  if (m.tier === 'edge') {
    // Checked from the manifest, before any byte is read: an oversized model would take the isolate down.
    if (m.onnx.bytes > cfg.edgeMaxModelBytes) {
      throw new ApiError('model-unavailable', `"${m.id}" is ${m.onnx.bytes} bytes, over the edge tier's budget of ${cfg.edgeMaxModelBytes} (EDGE_MAX_MODEL_BYTES); publish it as a heavy-tier model.`);
    }
    return new OrtWasmBackend(env.MODELS);
  }
  const send = heavySender(env, cfg);
  if (!send) {
    throw new ApiError('model-unavailable', `"${m.id}" is a heavy-tier model and no container backend is configured (CONTAINER_URL or the HEAVY_CONTAINER binding).`, {}, { 'retry-after': '60' });
  }
  let breaker = breakers.get(send.target);
  if (!breaker) breakers.set(send.target, (breaker = new CircuitBreaker(cfg.breakerThreshold, cfg.breakerCooldownMs)));
  return new ContainerBackend({ send: send.fn, timeoutMs: cfg.containerTimeoutMs, retries: cfg.containerRetries, breaker });
}

/**
 * Where heavy requests go: the companion container's Durable Object in production, or any
 * Open Inference Protocol v2 endpoint (the local container, Triton, KServe) by URL.
 */
function heavySender(env: Env, cfg: Config): { target: string; fn: (path: string, init: RequestInit) => Promise<Response> } | null {
  if (cfg.containerUrl) {
    const base = cfg.containerUrl.replace(/\/$/, '');
    return { target: base, fn: (path, init) => fetch(base + path, init) };
  }
  if (env.HEAVY_CONTAINER) {
    const stub = env.HEAVY_CONTAINER.get(env.HEAVY_CONTAINER.idFromName('heavy'));
    return { target: 'durable-object', fn: (path, init) => stub.fetch(`http://container${path}`, init) };
  }
  return null;
}
