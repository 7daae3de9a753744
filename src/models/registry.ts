import { ApiError } from '../errors';
import { ManifestSchema, type Manifest } from './manifest';

/**
 * The model registry lives in R2: `models/<id>/manifest.json` beside the weights. Manifests
 * are cached per isolate for a short time so that a newly published model shows up quickly.
 */
const MANIFEST_TTL_MS = 30_000;
const cache = new Map<string, { at: number; manifest: Promise<Manifest | null> }>();

export const manifestKey = (id: string) => `models/${id}/manifest.json`;

export async function getManifest(bucket: R2Bucket, id: string): Promise<Manifest> {
  if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(id)) {
    throw new ApiError('unknown-model', `"${id.slice(0, 100)}" is not a valid model id.`);
  }
  const now = Date.now();
  let entry = cache.get(id);
  if (!entry || now - entry.at > MANIFEST_TTL_MS) {
    entry = { at: now, manifest: readManifest(bucket, id) };
    cache.set(id, entry);
    entry.manifest.catch(() => cache.delete(id));
  }
  const manifest = await entry.manifest;
  if (!manifest) throw new ApiError('unknown-model', `There is no model "${id}". GET /v1/models lists them.`);
  return manifest;
}

async function readManifest(bucket: R2Bucket, id: string): Promise<Manifest | null> {
  const obj = await bucket.get(manifestKey(id));
  if (!obj) return null;
  let json: unknown;
  try {
    json = await obj.json();
  } catch {
    throw new ApiError('model-unavailable', `The manifest of "${id}" is not valid JSON.`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success || parsed.data.id !== id) {
    throw new ApiError('model-unavailable', `The manifest of "${id}" is invalid: ${parsed.success ? 'id mismatch' : parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export async function listManifests(bucket: R2Bucket): Promise<Manifest[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: 'models/', delimiter: '/', cursor });
    for (const p of page.delimitedPrefixes) ids.push(p.slice('models/'.length, -1));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  const manifests = await Promise.all(ids.map((id) => getManifest(bucket, id).catch(() => null)));
  return manifests.filter((m): m is Manifest => m !== null).sort((a, b) => a.id.localeCompare(b.id));
}

/** Public view of a manifest for GET /v1/models (labels summarised, not dumped). */
export function describe(m: Manifest) {
  return {
    id: m.id,
    family: m.family,
    variant: m.variant,
    version: m.version,
    tier: m.tier,
    precision: m.onnx.precision,
    input_size: m.preprocess.size,
    preprocess: m.preprocess,
    input: m.input,
    outputs: m.outputs,
    tta: m.tta,
    num_labels: m.labels.length,
    embedding_dim: m.outputs.embedding ? (m.embedding_dim ?? null) : null,
    bytes: m.onnx.bytes,
    sha256: m.onnx.sha256,
    metrics: m.metrics ?? null,
    source: m.source ?? null,
    license: m.license ?? null,
  };
}
