import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { OipError } from './errors';
import { checkManifest, type Manifest } from './manifest';
import type { ModelSource } from './sources';

export type Provider = 'cuda' | 'cpu';

export interface LoadedModel { manifest: Manifest; session: ort.InferenceSession }

const ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/**
 * Models from ModelSources (local folders, R2's S3 API), looked up by id on first use and cached.
 * Sessions are created on first use, after the weights' sha256 matches the manifest; a model whose
 * weights do not verify is refused (503), never served.
 */
export class ModelStore {
  private readonly manifests = new Map<string, { manifest: Manifest; source: ModelSource }>();
  private readonly sessions = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly sources: ModelSource[], private readonly provider: Provider, private readonly threads: number) {}

  /** Lists every source once (for the log); a source that cannot be listed is reported, not fatal. */
  async index(): Promise<{ ids: string[]; errors: string[] }> {
    const ids = new Set<string>();
    const errors: string[] = [];
    for (const s of this.sources) {
      try {
        for (const id of await s.list()) ids.add(id);
      } catch (e) {
        errors.push(`${s.label}: ${(e as Error).message}`);
      }
    }
    return { ids: [...ids].sort(), errors };
  }

  /** The manifest of `name` from the first source that has it (404 when none has). */
  async manifest(name: string): Promise<Manifest> {
    const hit = this.manifests.get(name);
    if (hit) return hit.manifest;
    if (!ID.test(name)) throw new OipError(404, `unknown model "${name}"`);
    for (const source of this.sources) {
      let raw: unknown;
      try {
        raw = await source.manifest(name);
      } catch (e) {
        console.error(JSON.stringify({ level: 'error', msg: 'manifest lookup failed', source: source.label, model: name, error: (e as Error).message }));
        throw new OipError(503, `the model repository is unavailable (${source.label})`);
      }
      if (raw === null) continue;
      const problem = checkManifest(raw, name);
      if (problem) throw new OipError(503, `the manifest of "${name}" is invalid: ${problem}`);
      const manifest = raw as Manifest;
      this.manifests.set(name, { manifest, source });
      return manifest;
    }
    throw new OipError(404, `unknown model "${name}"`);
  }

  load(name: string): Promise<LoadedModel> {
    let p = this.sessions.get(name);
    if (!p) {
      p = this.create(name);
      this.sessions.set(name, p);
      p.catch(() => this.sessions.delete(name));
    }
    return p;
  }

  isLoaded(name: string): boolean {
    return this.sessions.has(name);
  }

  private async create(name: string): Promise<LoadedModel> {
    const manifest = await this.manifest(name);
    const { source } = this.manifests.get(name)!;
    let bytes: Uint8Array | null;
    try {
      bytes = await source.weights(manifest);
    } catch (e) {
      console.error(JSON.stringify({ level: 'error', msg: 'weights fetch failed', source: source.label, model: name, error: (e as Error).message }));
      throw new OipError(503, `the weights of "${name}" could not be fetched`);
    }
    if (!bytes) throw new OipError(503, `the weights of "${name}" are missing (${manifest.onnx.key})`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== manifest.onnx.sha256) throw new OipError(503, `the weights of "${name}" do not match the manifest's sha256`);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [this.provider],
      intraOpNumThreads: this.threads,
      graphOptimizationLevel: 'all',
    });
    console.log(JSON.stringify({ level: 'info', msg: 'model loaded', model: name, source: source.label, bytes: bytes.byteLength, provider: this.provider }));
    return { manifest, session };
  }
}

// A 75-byte ONNX graph (y = Relu(x), float[1], opset 13) to probe execution providers with,
// so the choice never depends on which models are present.
const PROBE_ONNX = Buffer.from('CAgSCGVkZ2Utdml0OjcKDAoBeBIBeSIEUmVsdRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN', 'base64');

/**
 * CUDA when asked for (or "auto") and its provider library loads, else CPU. onnxruntime-node's
 * CUDA libraries come from outside the npm registry (ONNXRUNTIME_NODE_INSTALL=skip here), so
 * the probe is a real session creation and run, not a guess.
 */
export async function chooseProvider(wanted: string): Promise<{ provider: Provider; reason: string }> {
  if (wanted === 'cpu') return { provider: 'cpu', reason: 'EXECUTION_PROVIDER=cpu' };
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  const fallback = (reason: string) => {
    if (wanted === 'cuda') throw new Error(`EXECUTION_PROVIDER=cuda but ${reason}`);
    return { provider: 'cpu' as const, reason };
  };
  if (!cuda) return fallback('this onnxruntime-node build has no CUDA provider');
  try {
    const s = await ort.InferenceSession.create(PROBE_ONNX, { executionProviders: ['cuda'] });
    await s.run({ x: new ort.Tensor('float32', Float32Array.of(-1), [1]) });
    await s.release();
    return { provider: 'cuda', reason: 'CUDA execution provider loaded' };
  } catch (e) {
    return fallback(`CUDA unavailable (${(e as Error).message.split('\n')[0]})`);
  }
}
