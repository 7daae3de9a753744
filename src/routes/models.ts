import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
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

export function registerModels(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const models = await listManifests(c.env.MODELS);
    return c.json({ default: c.env.DEFAULT_MODEL, models: models.map(describe) }, 200);
  });
  app.openapi(one, async (c) => {
    const m = await getManifest(c.env.MODELS, c.req.valid('param').id);
    return c.json({ ...describe(m), labels: m.labels }, 200);
  });
}
