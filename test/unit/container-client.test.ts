import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/inference/breaker';
import { ContainerBackend } from '../../src/inference/container';
import { ApiError } from '../../src/errors';
import { ManifestSchema } from '../../src/models/manifest';
import { decodeInferResponse, encodeInferRequest, float32Bytes } from '../../src/inference/oip';

describe('circuit breaker', () => {
  it('opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker(3, 1000, () => now);
    for (let i = 0; i < 3; i++) { expect(b.allow()).toBe(true); b.failure(); }
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(b.retryAfterMs()).toBe(1000);
    now = 1000;
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(true); // the trial
    expect(b.allow()).toBe(false); // only one at a time
    b.failure();
    expect(b.state).toBe('open');
    now = 2500;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
  });
});

describe('OIP v2 binary encoding', () => {
  it('round-trips a binary request header and decodes binary and JSON outputs', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    const { body, headerLength } = encodeInferRequest([{ name: 'pixel_values', datatype: 'FP32', shape: [1, 6], bytes: float32Bytes(x) }], ['logits', 'embedding']);
    const header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength)));
    expect(header.inputs[0]).toEqual({ name: 'pixel_values', datatype: 'FP32', shape: [1, 6], parameters: { binary_data_size: 24 } });
    expect(header.outputs).toEqual([{ name: 'logits', parameters: { binary_data: true } }, { name: 'embedding', parameters: { binary_data: true } }]);
    expect(Array.from(new Float32Array(body.slice(headerLength).buffer))).toEqual(Array.from(x));

    const logits = new Float32Array([0.5, -1.5]);
    const resHeader = new TextEncoder().encode(JSON.stringify({
      model_name: 'm', outputs: [
        { name: 'logits', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        { name: 'embedding', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
      ],
    }));
    const res = new Uint8Array(resHeader.length + 8);
    res.set(resHeader); res.set(float32Bytes(logits), resHeader.length);
    const out = decodeInferResponse(res, resHeader.length);
    expect(Array.from(out.get('logits')!.data)).toEqual([0.5, -1.5]);
    expect(Array.from(out.get('embedding')!.data)).toEqual([1, 2, 3]);
    expect(() => decodeInferResponse(res.subarray(0, res.length - 1), resHeader.length)).toThrow(/overruns/);
  });
});

describe('container backend', () => {
  const manifest = ManifestSchema.parse({
    id: 'm', family: 'vit', variant: 'v', tier: 'heavy', onnx: { key: 'models/m/model.onnx', sha256: 'a'.repeat(64), bytes: 1 },
    outputs: { logits: 'logits', embedding: null }, preprocess: { size: 1 }, labels: ['a', 'b'],
  });
  const answering = (rows: number) => new ContainerBackend({
    timeoutMs: 1000, retries: 0, breaker: new CircuitBreaker(5, 1000),
    send: async () => Response.json({ model_name: 'm', outputs: [{ name: 'logits', datatype: 'FP32', shape: [rows, 2], data: new Array(rows * 2).fill(1) }] }),
  });
  const input = { data: new Float32Array(3 * 4), batch: 4 }; // e.g. two images with their mirror views

  it('takes one row per input', async () => {
    const out = await answering(4).run(manifest, input, { wantEmbedding: false });
    expect(out.classes).toBe(2);
  });

  it('refuses an answer with fewer rows than inputs instead of shifting images onto each other', async () => {
    const err = await answering(2).run(manifest, input, { wantEmbedding: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).type).toBe('model-unavailable');
    expect((err as ApiError).detail).toMatch(/2 rows of "logits" for 4 inputs/);
  });
});
