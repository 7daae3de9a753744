import { ApiError } from '../errors';
import type { Env } from '../env';
import type { Manifest } from '../models/manifest';
import type { Backend } from './backend';
import { OrtWasmBackend } from './ort-wasm';

/** The backend for a model, by its manifest's tier (never by family or name). */
export function backendFor(m: Manifest, env: Env): Backend {
  if (m.tier === 'edge') return new OrtWasmBackend(env.MODELS);
  throw new ApiError('model-unavailable', `"${m.id}" is a heavy-tier model and no container backend is configured.`, {}, { 'retry-after': '60' });
}
