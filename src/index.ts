import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { ApiError, handleError } from './errors';
import { authenticate } from './auth/middleware';
import { observe } from './observability/middleware';
import { timed } from './observability/server-timing';
import { rateLimit } from './ratelimit/middleware';
import { invalid } from './routes/inputs';
import { servePage } from './routes/assets';
import { corsPolicy } from './routes/cors';
import { registerBench } from './routes/bench';
import { registerClassify } from './routes/classify';
import { registerEmbed } from './routes/embed';
import { registerHealth } from './routes/health';
import { registerModels } from './routes/models';
import { registerBatches } from './batches/routes';
import { registerBatchUploads } from './routes/batch-uploads';
import { registerWebhooks } from './batches/webhooks';
import { handleQueue } from './batches/consumer';

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalid(result.error as never);
    },
  });

  app.use('*', async (c, next) => {
    const id = c.req.header('cf-ray') ?? crypto.randomUUID();
    c.set('requestId', id);
    await next();
    c.header('x-request-id', id);
  });
  // Security spine (src/observability, src/auth, src/ratelimit): log every request, serve the
  // public page, answer CORS preflights (they carry no key), then key + scope, then per-key
  // budget (the last two timed for Server-Timing).
  app.use('*', observe(), servePage(), corsPolicy(), timed('auth', authenticate()), timed('limit', rateLimit()));

  registerHealth(app);
  registerModels(app);
  registerClassify(app);
  registerEmbed(app);
  registerBench(app);
  registerBatchUploads(app);
  registerBatches(app);
  registerWebhooks(app);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'edge-vit', version: '0.1.0', description: 'Vision Transformer image classification at the edge. Errors are RFC 9457 application/problem+json.' },
  });

  app.notFound((c) => handleError(new ApiError('not-found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), c));
  app.onError((err, c) => handleError(err, c));
  return app;
}

const app = createApp();

export { HeavyContainer } from './inference/heavy-container';

export default {
  fetch: app.fetch,
  // Batch work, completion callbacks, R2 event notifications and the dead-letter queue (src/batches/).
  queue: (batch: MessageBatch<unknown>, env: AppEnv['Bindings']) => handleQueue(batch, env),
} satisfies ExportedHandler<AppEnv['Bindings']>;

// Durable Object classes must be exported by the main module (wrangler.toml durable_objects).
export { RateLimiter } from './ratelimit/limiter';
