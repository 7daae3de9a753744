import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { OrtWasmBackend } from '../inference/ort-wasm';
import { getManifest } from '../models/registry';
import { problemResponses } from './schemas';

const healthz = createRoute({
  method: 'get', path: '/healthz', summary: 'Liveness',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const readyz = createRoute({
  method: 'get', path: '/readyz', summary: 'Readiness: the default model loads (weights verified, session created)',
  responses: { 200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), model: z.string() }) } } }, 503: problemResponses[503]! },
});

export function registerHealth(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const cfg = configFrom(c.env);
    try {
      const m = await getManifest(c.env.MODELS, cfg.defaultModel);
      await new OrtWasmBackend(c.env.MODELS).session(m);
    } catch (e) {
      const detail = e instanceof ApiError ? e.detail : 'the default model failed to load';
      throw new ApiError('model-unavailable', `Not ready: ${detail}`, { model: cfg.defaultModel }, { 'retry-after': '5' });
    }
    return c.json({ status: 'ready' as const, model: cfg.defaultModel }, 200);
  });
}
