// The companion container as a real process on loopback: Open Inference Protocol v2 shapes,
// JSON and binary tensors, errors, and the dynamic batcher.
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heavyCopy, startContainer, type ContainerProcess } from '../support/container';

const { dir, heavyId, version } = heavyCopy('convmixer-cifar10');
let c: ContainerProcess;
beforeAll(async () => { c = await startContainer({ MODELS_DIRS: dir, MAX_BATCH: '8', MAX_QUEUE_DELAY_MS: '20', MAX_BODY_BYTES: '1000000' }); });
afterAll(async () => { await c?.stop(); rmSync(dir, { recursive: true, force: true }); });

const N = 3 * 32 * 32;
const pixels = (seed: number) => Float32Array.from({ length: N }, (_, i) => Math.sin(i * 0.37 + seed));
const jsonInfer = (data: number[], shape = [1, 3, 32, 32], extra: Record<string, unknown> = {}) => fetch(`${c.url}/v2/models/${heavyId}/infer`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'r1', inputs: [{ name: 'pixel_values', datatype: 'FP32', shape, data }], ...extra }),
});

function binaryInfer(x: Float32Array, batch: number) {
  const header = new TextEncoder().encode(JSON.stringify({
    inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [batch, 3, 32, 32], parameters: { binary_data_size: x.byteLength } }],
    outputs: [{ name: 'logits', parameters: { binary_data: true } }],
  }));
  const body = new Uint8Array(header.byteLength + x.byteLength);
  body.set(header);
  body.set(new Uint8Array(x.buffer), header.byteLength);
  return fetch(`${c.url}/v2/models/${heavyId}/infer`, {
    method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  });
}

async function binaryLogits(res: Response) {
  const len = Number(res.headers.get('inference-header-content-length'));
  const buf = new Uint8Array(await res.arrayBuffer());
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(0, len)));
  return { header, logits: new Float32Array(buf.slice(len).buffer) };
}

describe('OIP v2 health and metadata', () => {
  it('live, ready, server metadata', async () => {
    expect(await (await fetch(`${c.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${c.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    const meta = await (await fetch(`${c.url}/v2`)).json();
    expect(meta).toMatchObject({ name: 'edge-vit-container', extensions: ['binary_tensor_data', 'statistics'], execution_provider: 'cpu' });
  });

  it('model metadata has the spec\'s fields', async () => {
    const res = await fetch(`${c.url}/v2/models/${heavyId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: heavyId, versions: [version], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [-1, 3, 32, 32] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }, { name: 'embedding', datatype: 'FP32', shape: [-1, 256] }],
    });
    expect((await fetch(`${c.url}/v2/models/${heavyId}/ready`)).status).toBe(200);
  });

  it('unknown models and routes are 404 with an error body', async () => {
    const res = await fetch(`${c.url}/v2/models/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'unknown model "nope"' });
    expect((await fetch(`${c.url}/v2/models/nope/infer`, { method: 'POST', body: '{}' })).status).toBe(404);
    const odd = await fetch(`${c.url}/v2/models/..%2F..%2Fetc/infer`, { method: 'POST', body: '{}' });
    expect(odd.status).toBe(404);
    expect(await odd.json()).toHaveProperty('error');
  });
});

describe('OIP v2 infer', () => {
  it('JSON in, JSON out: shapes, id, model name and version', async () => {
    const res = await jsonInfer(Array.from(pixels(1)));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ model_name: heavyId, model_version: version, id: 'r1' });
    expect(body.outputs.map((o: { name: string; datatype: string; shape: number[] }) => [o.name, o.datatype, o.shape]))
      .toEqual([['logits', 'FP32', [1, 10]], ['embedding', 'FP32', [1, 256]]]);
    expect(body.outputs[0].data).toHaveLength(10);
  });

  it('nested JSON data is accepted (row-major), and equals the flat form', async () => {
    const x = Array.from(pixels(2));
    const nested = [[0, 1, 2].map((ch) => Array.from({ length: 32 }, (_, y) => x.slice(ch * 1024 + y * 32, ch * 1024 + y * 32 + 32)))];
    const a = await (await jsonInfer(x, undefined, { outputs: [{ name: 'logits' }] })).json();
    const b = await (await jsonInfer(nested as unknown as number[], undefined, { outputs: [{ name: 'logits' }] })).json();
    expect(b.outputs[0].data).toEqual(a.outputs[0].data);
  });

  it('binary data extension in and out gives the same logits as JSON', async () => {
    const x = pixels(3);
    const res = await binaryInfer(x, 1);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { header, logits } = await binaryLogits(res);
    expect(header.outputs).toEqual([{ name: 'logits', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }]);
    const json = await (await jsonInfer(Array.from(x), undefined, { outputs: [{ name: 'logits' }] })).json();
    json.outputs[0].data.forEach((v: number, i: number) => expect(logits[i]).toBeCloseTo(v, 5));
  });

  it('the optional /versions/{version} segment: the manifest version is served, others are 404', async () => {
    const meta = await fetch(`${c.url}/v2/models/${heavyId}/versions/${version}`);
    expect(meta.status).toBe(200);
    expect((await meta.json()).versions).toEqual([version]);
    const res = await fetch(`${c.url}/v2/models/${heavyId}/versions/${version}/infer`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, 32, 32], data: Array.from(pixels(4)) }] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).model_version).toBe(version);
    const wrong = await fetch(`${c.url}/v2/models/${heavyId}/versions/9/infer`, { method: 'POST', body: '{}' });
    expect(wrong.status).toBe(404);
    expect((await wrong.json()).error).toMatch(/no version "9"/);
  });

  it('a body over MAX_BODY_BYTES -> 413 with an error body', async () => {
    const res = await fetch(`${c.url}/v2/models/${heavyId}/infer`, { method: 'POST', body: new Uint8Array(1_000_001) });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/over 1000000 bytes/);
  });

  it.each([
    ['bad JSON', () => fetch(`${c.url}/v2/models/${heavyId}/infer`, { method: 'POST', body: '{' }), /not valid JSON/],
    ['wrong input name', () => fetch(`${c.url}/v2/models/${heavyId}/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 32, 32], data: [] }] }) }), /unknown input "x"/],
    ['wrong shape', () => jsonInfer([1, 2, 3], [1, 3]), /input shape must be \[N, 3, 32, 32\]/],
    ['too few numbers', () => jsonInfer([1, 2, 3]), /3072 finite numbers/],
    ['non-numbers', () => jsonInfer(Array(N).fill('a')), /finite numbers/],
    ['unknown output', () => jsonInfer(Array.from(pixels(0)), undefined, { outputs: [{ name: 'probs' }] }), /unknown output "probs"/],
    ['header length beyond the body', () => fetch(`${c.url}/v2/models/${heavyId}/infer`, { method: 'POST', body: '{}', headers: { 'inference-header-content-length': '99' } }), /not a length within the body/],
    ['binary size mismatch', () => binaryInfer(new Float32Array(N - 1), 1), /binary input must be 12288 bytes/],
  ])('%s -> 400 with an error message', async (_, send, message) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(message);
  });

  it('concurrent requests are batched and each gets its own rows back', async () => {
    const xs = Array.from({ length: 8 }, (_, i) => pixels(10 + i));
    const stats = async () => (await (await fetch(`${c.url}/v2/models/${heavyId}/stats`)).json()).model_stats[0];
    const before = await stats();
    const together = await Promise.all(xs.map(async (x) => (await binaryLogits(await binaryInfer(x, 1))).logits));
    const after = await stats();
    expect(after.inference_count - before.inference_count).toBe(8);
    expect(after.execution_count - before.execution_count).toBeLessThan(8); // merged into fewer session runs
    // One request of batch 8 as the reference for row order.
    const all = new Float32Array(8 * N);
    xs.forEach((x, i) => all.set(x, i * N));
    const { header, logits } = await binaryLogits(await binaryInfer(all, 8));
    expect(header.outputs[0].shape).toEqual([8, 10]);
    xs.forEach((_, i) => {
      for (let k = 0; k < 10; k++) {
        expect(together[i]![k]).toBeCloseTo(logits[i * 10 + k]!, 4);
      }
    });
  });
});

describe('shutdown', () => {
  it('SIGTERM: a request that never finishes its body holds the process for SHUTDOWN_GRACE_MS only', async () => {
    const p = await startContainer({ MODELS_DIRS: dir, SHUTDOWN_GRACE_MS: '500' });
    const { port } = new URL(p.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(`POST /v2/models/${heavyId}/infer HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"inputs"`);
    await new Promise((r) => setTimeout(r, 100));
    const t = performance.now();
    await p.stop();
    expect(performance.now() - t).toBeLessThan(3000);
    sock.destroy();
  });
});
