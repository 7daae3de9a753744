import { Hono } from 'hono';
import { Batcher, type BatcherOptions } from './batcher';
import { OipError } from './errors';
import { encodeInfer, modelMetadata, parseInfer } from './oip';
import type { ModelStore } from './store';

export interface AppOptions extends BatcherOptions {
  maxBodyBytes: number;
  serverName: string;
  provider: string;
  /** Server readiness (GET /v2/health/ready): false until the models in PRELOAD_MODELS are loaded. */
  ready: () => boolean;
}

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

  // Every model route also answers under /versions/{version} (the spec's optional segment); this
  // server holds one version per model, the manifest's.
  const model = async (c: { req: { param(k: string): string | undefined } }) => {
    const m = await store.manifest(c.req.param('name')!);
    const v = c.req.param('version');
    if (v !== undefined && v !== m.version) throw new OipError(404, `model "${m.id}" has no version "${v}" (served: ${m.version})`);
    return m;
  };
  const both = (suffix: string) => [`/v2/models/:name${suffix}`, `/v2/models/:name/versions/:version${suffix}`] as const;

  app.onError((e, c) => {
    if (e instanceof OipError) return c.json({ error: e.message }, e.status);
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled', error: String(e) }));
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get('/v2', (c) => c.json({ name: o.serverName, version: '1.0.0', extensions: ['binary_tensor_data', 'statistics'], execution_provider: o.provider }));
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  // The spec: 200 means ready, a 4xx status means not ready (Triton answers 400).
  app.get('/v2/health/ready', (c) => (o.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 400)));
  for (const path of both('')) app.get(path, async (c) => c.json(modelMetadata(await model(c))));
  // Model readiness loads (and sha256-verifies) the model, so a probe can warm it before traffic.
  for (const path of both('/ready')) {
    app.get(path, async (c) => {
      const m = await model(c);
      await batcher(m.id);
      return c.json({ name: m.id, ready: true });
    });
  }

  // Triton's statistics extension, reduced to its two counters: images inferred and session runs.
  app.get('/v2/models/:name/stats', async (c) => {
    const m = await store.manifest(c.req.param('name'));
    const b = batchers.has(m.id) ? await batcher(m.id) : null;
    return c.json({ model_stats: [{ name: m.id, version: m.version, inference_count: b?.stats.images ?? 0, execution_count: b?.stats.runs ?? 0 }] });
  });

  for (const path of both('/infer')) app.post(path, async (c) => {
    const m = await model(c);
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
