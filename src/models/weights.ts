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
