import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { OipError } from './errors';
import type { Manifest } from './manifest';

export type Provider = 'cuda' | 'cpu';

export interface LoadedModel { manifest: Manifest; session: ort.InferenceSession }

/**
 * Models from local directories laid out like the R2 bucket (<dir>/<id>/manifest.json + ONNX).
 * Sessions are created on first use, after the weights' sha256 matches the manifest; a model whose
 * weights do not verify is refused, never served.
 */
export class ModelStore {
  private readonly manifests = new Map<string, { manifest: Manifest; onnxPath: string }>();
  private readonly sessions = new Map<string, Promise<LoadedModel>>();

  constructor(dirs: string[], private readonly provider: Provider, private readonly threads: number) {
    for (const dir of dirs) {
      if (!existsSync(dir)) continue;
      for (const id of readdirSync(dir)) {
        const file = join(dir, id, 'manifest.json');
        if (!existsSync(file)) continue;
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
        this.manifests.set(manifest.id, { manifest, onnxPath: join(dir, id, basename(manifest.onnx.key)) });
      }
    }
  }

  list(): Manifest[] {
    return [...this.manifests.values()].map((m) => m.manifest);
  }

  manifest(name: string): Manifest {
    const m = this.manifests.get(name);
    if (!m) throw new OipError(404, `unknown model "${name}"`);
    return m.manifest;
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

  private async create(name: string): Promise<LoadedModel> {
    this.manifest(name);
    const { manifest, onnxPath } = this.manifests.get(name)!;
    let bytes: Buffer;
    try {
      bytes = readFileSync(onnxPath);
    } catch {
      throw new OipError(503, `weights of "${name}" are missing (${basename(onnxPath)})`);
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== manifest.onnx.sha256) throw new OipError(503, `weights of "${name}" do not match the manifest's sha256`);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [this.provider],
      intraOpNumThreads: this.threads,
      graphOptimizationLevel: 'all',
    });
    return { manifest, session };
  }
}

/**
 * CUDA when asked for (or "auto") and its provider library loads, else CPU. onnxruntime-node's
 * CUDA libraries come from outside the npm registry (ONNXRUNTIME_NODE_INSTALL=skip here), so
 * the probe is a real session creation, not a guess.
 */
export async function chooseProvider(wanted: string, probeModel: string | null): Promise<{ provider: Provider; reason: string }> {
  if (wanted === 'cpu') return { provider: 'cpu', reason: 'EXECUTION_PROVIDER=cpu' };
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return { provider: 'cpu', reason: 'this onnxruntime-node build has no CUDA provider' };
  if (!probeModel) return { provider: 'cpu', reason: 'no model to probe CUDA with' };
  try {
    const s = await ort.InferenceSession.create(readFileSync(probeModel), { executionProviders: ['cuda'] });
    await s.release();
    return { provider: 'cuda', reason: 'CUDA execution provider loaded' };
  } catch (e) {
    return { provider: 'cpu', reason: `CUDA unavailable (${(e as Error).message.split('\n')[0]})` };
  }
}
