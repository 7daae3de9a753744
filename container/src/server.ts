// The companion container: an OIP v2 server for the heavy tier (docs/container.md).
//   PORT=8080 MODELS_DIRS=/models node dist/server.mjs
import { serve } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from './app';
import { ModelStore, chooseProvider } from './store';

const env = process.env;
const int = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
const dirs = (env.MODELS_DIRS ?? 'models').split(',').filter(Boolean);
const probe = new ModelStore(dirs, 'cpu', 1).list()
  .map((m) => dirs.map((d) => join(d, m.id, m.onnx.key.split('/').pop()!)).find(existsSync))
  .find(Boolean) ?? null;
const { provider, reason } = await chooseProvider(env.EXECUTION_PROVIDER ?? 'auto', probe);
const store = new ModelStore(dirs, provider, int(env.INTRA_OP_THREADS, 0));
const app = createApp(store, {
  maxBatch: Math.max(1, int(env.MAX_BATCH, 16)),
  maxDelayMs: Math.max(0, int(env.MAX_QUEUE_DELAY_MS, 2)),
  maxBodyBytes: int(env.MAX_BODY_BYTES, 64 * 1024 * 1024),
  serverName: 'edge-vit-container',
  provider,
});
const server = serve({ fetch: app.fetch, port: int(env.PORT, 8080), hostname: env.HOST ?? '0.0.0.0' }, (info) => {
  // One line a supervisor (or a test) can wait for.
  console.log(JSON.stringify({ level: 'info', msg: 'listening', port: info.port, provider, provider_reason: reason, models: store.list().map((m) => m.id) }));
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => server.close(() => process.exit(0)));
