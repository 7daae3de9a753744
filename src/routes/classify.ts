import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { runWithFallback } from '../inference/pipeline';
import { getManifest } from '../models/registry';
import { softmax, topK } from '../postprocess/classify';
import { parseImageRequest } from './inputs';
import { ClassifyOptions, ClassifyResponse, imageRequestBody, problemResponses } from './schemas';

const route = createRoute({
  method: 'post',
  path: '/v1/classify',
  summary: 'Classify one or more images',
  description: 'Images as multipart/form-data (field "image", repeatable), a raw image body, or JSON {"image": base64} / {"url": "https://..."}. Options in the query string or the body.',
  request: { query: ClassifyOptions, body: imageRequestBody(ClassifyOptions) },
  responses: { 200: { description: 'Top-k predictions per image, in request order', content: { 'application/json': { schema: ClassifyResponse } } }, ...problemResponses },
});

export function registerClassify(app: OpenAPIHono<AppEnv>) {
  // Documented from the schemas but parsed by parseImageRequest: the body comes in several
  // forms and must be read exactly once, with a byte cap, before anything else.
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, async (c) => {
    const cfg = configFrom(c.env);
    const { images, options } = await parseImageRequest(c, cfg, ClassifyOptions);
    const requested = await getManifest(c.env.MODELS, options.model ?? cfg.defaultModel);
    const { manifest: m, output, timings, views, fallback } = await runWithFallback(c.env, cfg, requested, images, { wantEmbedding: false, tta: options.tta, fallback: options.fallback });
    const results = images.map((_, i) => {
      const row = output.logits.subarray(i * output.classes, (i + 1) * output.classes);
      const scores = m.outputs.kind === 'logits' ? softmax(row) : row;
      const predictions = topK(scores, m.labels, options.top_k, options.threshold);
      return options.logits ? { predictions, logits: Array.from(row) } : { predictions };
    });
    return c.json({ model: modelRef(m), backend: output.backend, ...(fallback ? { fallback } : {}), tta: views, results, timings_ms: timings });
  });
}

export const modelRef = (m: { id: string; family: string; variant: string; version: string }) =>
  ({ id: m.id, family: m.family, variant: m.variant, version: m.version });
