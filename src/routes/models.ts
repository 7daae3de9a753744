import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { describe, getManifest, listManifests } from '../models/registry';
import { problemResponses } from './schemas';

const ModelInfo = z.object({
  id: z.string(), family: z.string(), variant: z.string(), version: z.string(), tier: z.enum(['edge', 'heavy']),
  precision: z.string(), input_size: z.number(), num_labels: z.number(), embedding_dim: z.number().nullable(),
  bytes: z.number(), sha256: z.string(),
}).passthrough().openapi('Model');

const list = createRoute({
  method: 'get', path: '/v1/models', summary: 'List the models in the registry',
  responses: { 200: { description: 'All models', content: { 'application/json': { schema: z.object({ default: z.string(), models: z.array(ModelInfo) }) } } } },
});

const one = createRoute({
  method: 'get', path: '/v1/models/{id}', summary: "One model's manifest summary and labels",
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: 'The model', content: { 'application/json': { schema: ModelInfo } } }, 404: problemResponses[404]! },
});

const weights = createRoute({
  method: 'get', path: '/v1/models/{id}/weights', summary: "A model's ONNX file (for in-browser inference), immutable by sha256",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'The ONNX bytes; ETag is the sha256', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    304: { description: 'Not modified (If-None-Match matched)' },
    404: problemResponses[404]!,
  },
});

export function registerModels(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const models = await listManifests(c.env.MODELS);
    return c.json({ default: c.env.DEFAULT_MODEL, models: models.map(describe) }, 200);
  });
  app.openapi(one, async (c) => {
    const m = await getManifest(c.env.MODELS, c.req.valid('param').id);
    return c.json({ ...describe(m), labels: m.labels }, 200);
  });
  // The object key holds content addressed by the manifest's sha256, so a browser may cache it forever.
  app.openapi(weights, async (c) => {
    const m = await getManifest(c.env.MODELS, c.req.valid('param').id);
    const etag = `"${m.onnx.sha256}"`;
    const headers = { etag, 'cache-control': 'public, max-age=31536000, immutable' };
    if ((c.req.header('if-none-match') ?? '').split(',').map((t) => t.trim().replace(/^W\//, '')).includes(etag)) {
      return c.body(null, 304, headers);
    }
    const obj = await c.env.MODELS.get(m.onnx.key);
    if (!obj) throw new ApiError('model-unavailable', `The weights of "${m.id}" are missing from the model store.`);
    return c.body(obj.body, 200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(obj.size) });
  });
}
