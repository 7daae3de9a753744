import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { sniffFormat } from '../images/header';
import { parseImageRequest } from './inputs';
import { problemResponses } from './schemas';

/**
 * Where uploaded batch inputs live in the UPLOADS bucket: outside UPLOADS_PREFIX, so R2 event
 * notifications do not tag them a second time. Give this prefix an R2 lifecycle rule (e.g.
 * delete after 7 days): the objects are only needed until their batch has run.
 */
export const BATCH_INPUTS_PREFIX = 'batch-inputs/';

const Uploaded = z.object({
  items: z.array(z.object({
    r2_key: z.string().openapi({ description: 'Use as an item\'s "r2_key" in POST /v1/batches' }),
    bytes: z.number(), format: z.enum(['jpeg', 'png', 'webp']),
  })),
}).openapi('BatchUploads');

const route = createRoute({
  method: 'post', path: '/v1/batches/uploads',
  summary: 'Upload images for a batch (the web page\'s batch view): multipart field "image" (repeatable) or one raw image body',
  description: 'Stores each image in the uploads bucket and returns its r2_key for POST /v1/batches. Needs the batches scope. Same size and count limits as POST /v1/classify; every image must be a JPEG, PNG or WebP by its magic bytes.',
  responses: {
    201: { description: 'Stored, in request order', content: { 'application/json': { schema: Uploaded } } },
    400: problemResponses[400]!, 413: problemResponses[413]!, 415: problemResponses[415]!,
  },
});

export function registerBatchUploads(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, async (c) => {
    const bucket = c.env.UPLOADS;
    if (!bucket) throw new ApiError('batches-unavailable', 'Batch uploads are not configured on this deployment (R2 binding UPLOADS).');
    const { images } = await parseImageRequest(c, configFrom(c.env), z.object({}).passthrough());
    const checked = images.map((img, i) => {
      if (!('bytes' in img)) throw new ApiError('invalid-request', 'Upload image bytes here; a URL can go straight into a batch item ("url").');
      const format = sniffFormat(img.bytes);
      if (!format) throw new ApiError('unsupported-media-type', `Image ${i + 1} is not a JPEG, PNG or WebP (checked by its magic bytes).`);
      return { bytes: img.bytes, format };
    });
    // One folder per key: an upload never lands next to another key's files.
    const owner = await ownerDir(c.get('principal')?.id ?? 'anonymous');
    const items = await Promise.all(checked.map(async ({ bytes, format }) => {
      const r2_key = `${BATCH_INPUTS_PREFIX}${owner}/${crypto.randomUUID()}.${format === 'jpeg' ? 'jpg' : format}`;
      await bucket.put(r2_key, bytes, { httpMetadata: { contentType: `image/${format}` } });
      return { r2_key, bytes: bytes.byteLength, format };
    }));
    return c.json({ items }, 201);
  });
}

async function ownerDir(id: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)));
  return Array.from(d.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
