import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { runWithFallback } from '../inference/pipeline';
import { getManifest } from '../models/registry';
import { float32ToBase64, l2Normalize } from '../postprocess/embedding';
import { modelRef } from './classify';
import { parseImageRequest } from './inputs';
import { EmbedOptions, EmbedResponse, imageRequestBody, problemResponses } from './schemas';

const route = createRoute({
  method: 'post',
  path: '/v1/embed',
  summary: "Extract the model's pooled pre-logits embedding",
  request: { query: EmbedOptions, body: imageRequestBody(EmbedOptions) },
  responses: { 200: { description: 'One embedding per image, in request order', content: { 'application/json': { schema: EmbedResponse } } }, ...problemResponses },
});

export function registerEmbed(app: OpenAPIHono<AppEnv>) {
  // Documented from the schemas but parsed by parseImageRequest: the body comes in several
  // forms and must be read exactly once, with a byte cap, before anything else.
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, async (c) => {
    const cfg = configFrom(c.env);
    const { images, options } = await parseImageRequest(c, cfg, EmbedOptions);
    const requested = await getManifest(c.env.MODELS, options.model ?? cfg.defaultModel);
    if (!requested.outputs.embedding) throw new ApiError('embedding-unsupported', `The model "${requested.id}" exposes no embedding output.`);
    const { manifest: m, output, timings, views, fallback } = await runWithFallback(c.env, cfg, requested, images, { wantEmbedding: true, tta: options.tta, fallback: options.fallback });
    const dim = output.embeddingDim;
    const results = images.map((_, i) => {
      const raw = output.embedding!.subarray(i * dim, (i + 1) * dim);
      const v = options.normalize ? l2Normalize(raw) : raw;
      return {
        embedding: options.encoding === 'base64' ? float32ToBase64(v) : Array.from(v),
        dim, normalized: options.normalize, encoding: options.encoding,
      };
    });
    return c.json({ model: modelRef(m), backend: output.backend, ...(fallback ? { fallback } : {}), tta: views, results, timings_ms: timings });
  });
}
