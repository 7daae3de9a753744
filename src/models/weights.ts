import { ApiError } from '../errors';
import type { Manifest } from './manifest';

/** Reads a model's ONNX bytes from R2 and checks them against the manifest's sha256. */
export async function loadVerifiedWeights(bucket: R2Bucket, m: Manifest): Promise<Uint8Array> {
  const obj = await bucket.get(m.onnx.key);
  if (!obj) throw new ApiError('model-unavailable', `The weights of "${m.id}" are missing from the model store.`);
  const bytes = new Uint8Array(await obj.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== m.onnx.sha256) {
    throw new ApiError('model-unavailable', `The weights of "${m.id}" fail verification (sha256 ${digest.slice(0, 12)}… != manifest ${m.onnx.sha256.slice(0, 12)}…).`);
  }
  return bytes;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A model's ONNX bytes as a stream, checked against the manifest's sha256 on the way through:
 * the last chunk is held back until the digest matches, so a corrupt object ends the response
 * short of its Content-Length and no client (or cache) ever keeps it as complete.
 */
export async function verifiedWeightsStream(bucket: R2Bucket, m: Manifest): Promise<{ body: ReadableStream<Uint8Array>; size: number }> {
  const obj = await bucket.get(m.onnx.key);
  if (!obj) throw new ApiError('model-unavailable', `The weights of "${m.id}" are missing from the model store.`);
  const digest = new crypto.DigestStream('SHA-256');
  const hasher = digest.getWriter();
  let held: Uint8Array | null = null;
  const verify = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      await hasher.write(chunk);
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      await hasher.close();
      const hex = Array.from(new Uint8Array(await digest.digest), (b) => b.toString(16).padStart(2, '0')).join('');
      if (hex !== m.onnx.sha256) {
        console.error(JSON.stringify({ level: 'error', msg: 'weights fail verification', model: m.id, sha256: hex, expected: m.onnx.sha256 }));
        controller.error(new Error(`The weights of "${m.id}" fail verification.`));
        return;
      }
      if (held) controller.enqueue(held);
    },
  });
  const sized = new FixedLengthStream(obj.size);
  void obj.body.pipeThrough(verify).pipeTo(sized.writable).catch(() => undefined);
  return { body: sized.readable as ReadableStream<Uint8Array>, size: obj.size };
}
