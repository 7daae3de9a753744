// The companion container: an OIP v2 server for the heavy tier (docs/container.md).
//   PORT=8080 MODELS_DIRS=/models node dist/server.mjs
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { createApp } from './app';
import { sourcesFromEnv } from './sources';
import { ModelStore, chooseProvider } from './store';

const env = process.env;
const int = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
const log = (fields: Record<string, unknown>) => console.log(JSON.stringify({ level: 'info', ...fields }));

const sources = sourcesFromEnv(env);
const { provider, reason } = await chooseProvider(env.EXECUTION_PROVIDER ?? 'auto');
const store = new ModelStore(sources, provider, int(env.INTRA_OP_THREADS, 0));
const { ids, errors } = await store.index();
for (const e of errors) console.error(JSON.stringify({ level: 'error', msg: 'model source could not be listed', error: e }));

// PRELOAD_MODELS: "all", or ids separated by commas; the server reports ready once they are loaded.
const preload = env.PRELOAD_MODELS === 'all' ? ids : (env.PRELOAD_MODELS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
let ready = preload.length === 0;

const app = createApp(store, {
  maxBatch: Math.max(1, int(env.MAX_BATCH, 16)),
  maxDelayMs: Math.max(0, int(env.MAX_QUEUE_DELAY_MS, 2)),
  maxBodyBytes: int(env.MAX_BODY_BYTES, 64 * 1024 * 1024),
  serverName: 'edge-vit-container',
  provider,
  ready: () => ready,
});
const server = serve({ fetch: app.fetch, port: int(env.PORT, 8080), hostname: env.HOST ?? '0.0.0.0' }, (info) => {
  // One line a supervisor (or a test) can wait for.
  log({ msg: 'listening', port: info.port, provider, provider_reason: reason, sources: sources.map((s) => s.label), models: ids });
});
if (preload.length) {
  void (async () => {
    const failed: string[] = [];
    for (const id of preload) await store.load(id).catch((e) => { failed.push(id); console.error(JSON.stringify({ level: 'error', msg: 'preload failed', model: id, error: (e as Error).message })); });
    ready = failed.length === 0;
    log({ msg: ready ? 'ready' : 'not ready: preload failed', preloaded: preload.filter((id) => !failed.includes(id)), failed });
  })();
}
// Keep idle connections longer than clients and proxies do (the Worker, a load balancer), so the
// server never closes a socket that a client is about to reuse (ECONNRESET under CPU starvation).
const http1 = server as Server;
http1.keepAliveTimeout = int(env.KEEP_ALIVE_TIMEOUT_MS, 65_000);
http1.headersTimeout = http1.keepAliveTimeout + 1000;
// Graceful stop: no new connections, idle ones closed now, requests in flight get
// SHUTDOWN_GRACE_MS to finish; then every connection is closed (a client that never finishes its
// request body must not hold the process until the 65 s keep-alive or 300 s request timeout).
const grace = int(env.SHUTDOWN_GRACE_MS, 10_000);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close(() => process.exit(0));
    http1.closeIdleConnections();
    setTimeout(() => { http1.closeAllConnections(); process.exit(0); }, grace).unref();
  });
}
