import type { OpenAPIHono } from '@hono/zod-openapi';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { decodeImage } from '../images/decode';
import { dropSession, OrtWasmBackend } from '../inference/ort-wasm';
import { ortMemoryBytes } from '../inference/ort-runtime';
import { getManifest } from '../models/registry';
import { resizedRgb, writeNormalized } from '../preprocess/tensor';
import { codecMemoryBytes } from '../images/codecs';

/** A whole number in [min, max] from the query, or the default; anything else is refused, so a
 * typo cannot start a run of a billion iterations. */
function intQuery(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ApiError('invalid-request', `${name} must be a whole number from ${min} to ${max}.`);
  return n;
}

/**
 * Measurement hooks for `npm run bench`, mounted only when BENCH_ROUTES=true (never in
 * wrangler.toml). They time work inside the isolate that cannot be isolated from outside.
 */
export function registerBench(app: OpenAPIHono<AppEnv>) {
  app.use('/__bench/*', async (c, next) => {
    if (c.env.BENCH_ROUTES !== 'true') throw new ApiError('not-found', 'No such route.');
    await next();
  });

  // R2 read + sha256 verify + session creation, with the session cache emptied first.
  app.post('/__bench/cold', async (c) => {
    const m = await getManifest(c.env.MODELS, c.req.query('model') ?? configFrom(c.env).defaultModel);
    dropSession(m);
    const t = performance.now();
    await new OrtWasmBackend(c.env.MODELS).session(m);
    return c.json({ ms: performance.now() - t });
  });

  // Raw session.run on a zero tensor, n times. `between`: untimed work before each run, to see
  // what a request's own steps do to the run after them: `decode` (decode + preprocess the posted
  // image) or `idle` (a 5 ms timer, as while a request body arrives).
  app.post('/__bench/run', async (c) => {
    const n = intQuery(c.req.query('n'), 'n', 20, 1, 1000);
    const between = c.req.query('between');
    if (between !== undefined && between !== 'decode' && between !== 'idle') throw new ApiError('invalid-request', 'between must be decode or idle.');
    const m = await getManifest(c.env.MODELS, c.req.query('model') ?? configFrom(c.env).defaultModel);
    const bytes = between === 'decode' ? new Uint8Array(await c.req.arrayBuffer()) : null;
    const backend = new OrtWasmBackend(c.env.MODELS);
    const input = { data: new Float32Array(3 * m.preprocess.size ** 2), batch: 1 };
    await backend.run(m, input, { wantEmbedding: false });
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      if (bytes) writeNormalized(resizedRgb(await decodeImage(bytes, { maxPixels: 1e8 }), m.preprocess), m.preprocess, m.input.layout, new Float32Array(input.data.length), 0);
      if (between === 'idle') await new Promise((resolve) => setTimeout(resolve, 5));
      const t = performance.now();
      await backend.run(m, input, { wantEmbedding: false });
      ms.push(performance.now() - t);
    }
    return c.json({ ms, ort_memory_bytes: ortMemoryBytes() });
  });

  // Decode + preprocess of the posted image, n times; in full, or with `reduce_to`=N decoded at
  // the smallest reduction that still leaves N pixels on the short side (as for a model resizing to N).
  app.post('/__bench/preprocess', async (c) => {
    const n = intQuery(c.req.query('n'), 'n', 20, 1, 1000);
    const reduceTo = intQuery(c.req.query('reduce_to'), 'reduce_to', 0, 0, 65535);
    const m = await getManifest(c.env.MODELS, c.req.query('model') ?? configFrom(c.env).defaultModel);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const out = new Float32Array(3 * m.preprocess.size ** 2);
    const limits = { maxPixels: 1e8, ...(reduceTo > 0 ? { reduce: { abovePixels: 1, minShortSide: reduceTo } } : {}) };
    const ms: number[] = [];
    let decoded = { width: 0, height: 0 };
    // Two untimed rounds first, so that the JIT has compiled the resampler (as in steady serving).
    for (let i = -2; i < n; i++) {
      const t = performance.now();
      const img = await decodeImage(bytes, limits);
      writeNormalized(resizedRgb(img, m.preprocess), m.preprocess, m.input.layout, out, 0);
      if (i >= 0) ms.push(performance.now() - t);
      decoded = { width: img.width, height: img.height };
    }
    return c.json({ ms, decoded, codec_memory_bytes: await codecMemoryBytes() });
  });

  // The image decoders' WebAssembly memory now, without decoding anything (0: not instantiated).
  app.get('/__bench/codecs', async (c) => c.json({ codec_memory_bytes: await codecMemoryBytes() }));

  // Reads the body and answers its size: the local floor of an upload, through the same middleware.
  app.post('/__bench/sink', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
}
