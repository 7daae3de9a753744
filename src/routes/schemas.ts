import { z } from '@hono/zod-openapi';

/** Request and response schemas: validated here, and the source of /openapi.json. */
const boolish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');
const num = (s: z.ZodNumber) => z.union([s, z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/).transform(Number).pipe(s)]);

export const ClassifyOptions = z.object({
  model: z.string().max(100).optional().openapi({ description: 'Model id (GET /v1/models); default: the embedded default model' }),
  top_k: num(z.number().int().min(1).max(100)).default(5).openapi({ description: '1..100, default 5' }),
  threshold: num(z.number().min(0).max(1)).default(0).openapi({ description: 'Minimum probability, 0..1' }),
  fallback: z.enum(['none', 'edge']).default('none').openapi({ description: 'edge: if a heavy model is unavailable, answer with the edge model of the same family (reported in the response)' }),
  tta: boolish.default(true).openapi({ description: "Average the outputs over the model's test-time views (its manifest's `tta`, e.g. the mirror image; default true). false: one forward pass per image, faster, usually a little less accurate" }),
  logits: boolish.default(false).openapi({ description: "Also return the model's raw output row per image (logits, or probabilities for models that output them)" }),
});

export const EmbedOptions = z.object({
  model: z.string().max(100).optional(),
  normalize: boolish.default(true).openapi({ description: 'L2-normalise the embedding (default true)' }),
  encoding: z.enum(['float', 'base64']).default('float').openapi({ description: 'base64: little-endian float32 bytes' }),
  tta: boolish.default(true).openapi({ description: "Average the outputs over the model's test-time views (its manifest's `tta`, e.g. the mirror image; default true). false: one forward pass per image, faster, usually a little less accurate" }),
  fallback: z.enum(['none', 'edge']).default('none'),
});

export const JsonImageBody = z.object({
  image: z.string().optional().openapi({ description: 'Base64 of a JPEG, PNG or WebP file (data: URLs accepted)' }),
  url: z.string().max(2048).optional().openapi({ description: 'https URL of an image' }),
}).passthrough();

export const ModelRef = z.object({ id: z.string(), family: z.string(), variant: z.string(), version: z.string() });
export const Timings = z.object({ decode: z.number(), preprocess: z.number(), inference: z.number(), total: z.number() });

const Views = z.array(z.string()).openapi({ description: 'The test-time views averaged into each result (empty: the image alone)' });

export const Fallback = z.object({ from: z.string(), to: z.string(), reason: z.string() }).nullable();

export const ClassifyResponse = z.object({
  model: ModelRef,
  backend: z.string(),
  fallback: Fallback.optional(),
  tta: Views,
  results: z.array(z.object({ predictions: z.array(z.object({ label: z.string(), index: z.number().int(), score: z.number() })), logits: z.array(z.number()).optional() })),
  timings_ms: Timings,
}).openapi('ClassifyResponse');

export const EmbedResponse = z.object({
  model: ModelRef,
  backend: z.string(),
  fallback: Fallback.optional(),
  tta: Views,
  results: z.array(z.object({ embedding: z.union([z.array(z.number()), z.string()]), dim: z.number().int(), normalized: z.boolean(), encoding: z.enum(['float', 'base64']) })),
  timings_ms: Timings,
}).openapi('EmbedResponse');

export const Problem = z.object({
  type: z.string().openapi({ example: 'https://edge-vit.dev/problems/unknown-model' }),
  title: z.string(), status: z.number().int(), detail: z.string(), instance: z.string().optional(),
}).passthrough().openapi('Problem');

export const problemResponses = Object.fromEntries(
  [[400, 'Invalid request'], [404, 'Unknown model'], [413, 'Too large'], [415, 'Unsupported media type'], [422, 'Undecodable image or unusable URL'], [503, 'Model unavailable']]
    .map(([code, description]) => [code, { description, content: { 'application/problem+json': { schema: Problem } } }]),
) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;

export const imageRequestBody = (jsonExtra: z.ZodTypeAny) => ({
  required: true,
  content: {
    'multipart/form-data': { schema: z.object({ image: z.any().openapi({ type: 'string', format: 'binary', description: 'One or more image files (repeat the field)' }) }) },
    'image/jpeg': { schema: z.any().openapi({ type: 'string', format: 'binary' }) },
    'image/png': { schema: z.any().openapi({ type: 'string', format: 'binary' }) },
    'image/webp': { schema: z.any().openapi({ type: 'string', format: 'binary' }) },
    'application/json': { schema: JsonImageBody.merge(jsonExtra as never) },
  },
});
