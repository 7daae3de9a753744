import { Hono } from 'hono';
import { Batcher, type BatcherOptions } from './batcher';
import { OipError } from './errors';
import { encodeInfer, modelMetadata, parseInfer } from './oip';
import type { ModelStore } from './store';

export interface AppOptions extends BatcherOptions { maxBodyBytes: number; serverName: string; provider: string }

/** The Open Inference Protocol v2 REST subset (KServe / Triton) over a ModelStore. */
export function createApp(store: ModelStore, o: AppOptions) {
  const app = new Hono();
  const batchers = new Map<string, Promise<Batcher>>();
  const batcher = (name: string) => {
    let b = batchers.get(name);
    if (!b) {
      b = store.load(name).then((model) => new Batcher(model, o));
      batchers.set(name, b);
      b.catch(() => batchers.delete(name));
    }
    return b;
  };

  app.onError((e, c) => {
    if (e instanceof OipError) return c.json({ error: e.message }, e.status);
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled', error: String(e) }));
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get('/v2', (c) => c.json({ name: o.serverName, version: '1.0.0', extensions: ['binary_tensor_data'], execution_provider: o.provider }));
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => c.json({ ready: true }));
  app.get('/v2/models/:name', (c) => c.json(modelMetadata(store.manifest(c.req.param('name')))));
  app.get('/v2/models/:name/ready', async (c) => {
    await batcher(c.req.param('name'));
    return c.json({ name: c.req.param('name'), ready: true });
  });

  // Triton's statistics extension, reduced to its two counters: images inferred and session runs.
  app.get('/v2/models/:name/stats', async (c) => {
    const m = store.manifest(c.req.param('name'));
    const b = batchers.has(m.id) ? await batcher(m.id) : null;
    return c.json({ model_stats: [{ name: m.id, version: m.version, inference_count: b?.stats.images ?? 0, execution_count: b?.stats.runs ?? 0 }] });
  });

  app.post('/v2/models/:name/infer', async (c) => {
    const m = store.manifest(c.req.param('name'));
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > o.maxBodyBytes) throw new OipError(413, `request body over ${o.maxBodyBytes} bytes`);
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > o.maxBodyBytes) throw new OipError(413, `request body over ${o.maxBodyBytes} bytes`);
    const len = c.req.header('inference-header-content-length');
    const req = parseInfer(m, body, len === undefined ? null : Number(len));
    const outputs = await (await batcher(m.id)).infer(req.data, req.batch);
    const { body: out, headerLength } = encodeInfer(m, req, outputs);
    const headers: Record<string, string> = { 'content-type': headerLength === null ? 'application/json' : 'application/octet-stream' };
    if (headerLength !== null) headers['inference-header-content-length'] = String(headerLength);
    return c.body(out, 200, headers);
  });
  return app;
}
