import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { describe, getManifest, listManifests } from '../models/registry';
import { verifiedWeightsStream } from '../models/weights';
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

const WeightsHeaders = z.object({
  ETag: z.string().openapi({ description: 'Strong ETag: the quoted sha256 of the ONNX file (manifest onnx.sha256)' }),
  'Cache-Control': z.string().openapi({ example: 'public, max-age=31536000, immutable' }),
});

const weights = createRoute({
  method: 'get', path: '/v1/models/{id}/weights', summary: "A model's ONNX file (for in-browser inference), immutable by sha256",
  request: { params: z.object({ id: z.string() }), headers: z.object({ 'if-none-match': z.string().optional() }) },
  responses: {
    200: {
      description: 'The ONNX bytes, checked against the sha256 while streaming (a mismatch ends the body short of Content-Length)',
      headers: WeightsHeaders,
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    304: { description: 'Not modified (If-None-Match matched the ETag)', headers: WeightsHeaders },
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
  // Content addressed by the manifest's sha256, so a browser may keep it forever (the page's
  // in-browser mode, src/web/browser.ts). Public like the other model reads (PUBLIC_READS).
  app.openapi(weights, async (c) => {
    const m = await getManifest(c.env.MODELS, c.req.valid('param').id);
    const etag = `"${m.onnx.sha256}"`;
    const headers = { etag, 'cache-control': 'public, max-age=31536000, immutable' };
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    const { body, size } = await verifiedWeightsStream(c.env.MODELS, m);
    return c.body(body, 200, {
      ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size),
      'content-disposition': `attachment; filename="${m.id}.onnx"`, 'x-content-type-options': 'nosniff',
    });
  });
}

/** If-None-Match (RFC 9110 13.1.2): "*" or any listed tag, compared weakly. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(etag);
}
