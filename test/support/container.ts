// The companion container (container/) as a real child process on loopback, plus a heavy-tier
// copy of a shipped model so the same ONNX can be compared across the two backends.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-ignore: plain ESM helper shared with bench/container.mjs
import { startContainer as start } from '../../scripts/lib/container-host.mjs';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

export interface ContainerProcess { url: string; proc: ChildProcess; log: string[]; stop(): Promise<void> }

export const startContainer = (env: Record<string, string> = {}): Promise<ContainerProcess> => start(env);

/** A models folder holding `<id>-heavy`: the shipped ONNX of `id` under a heavy-tier manifest. */
export function heavyCopy(id: string): { dir: string; heavyId: string; version: string } {
  const dir = mkdtempSync(join(tmpdir(), 'heavy-'));
  const heavyId = `${id}-heavy`;
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', id, 'manifest.json'), 'utf8'));
  mkdirSync(join(dir, heavyId));
  copyFileSync(join(ROOT, 'models', id, 'model.onnx'), join(dir, heavyId, 'model.onnx'));
  writeFileSync(join(dir, heavyId, 'manifest.json'), JSON.stringify({
    ...manifest, id: heavyId, tier: 'heavy', fallback: id, onnx: { ...manifest.onnx, key: `models/${heavyId}/model.onnx` },
  }));
  return { dir, heavyId, version: manifest.version };
}

/**
 * Adds `<id>-fp16-heavy` to `dir`: the shipped ONNX of `id` converted to float16 (weights,
 * activations, input and outputs) by the zoo's own converter (scripts/zoo/export.py), under a
 * heavy-tier manifest with `input.dtype: float16`. Needs /usr/bin/python3 with python3-onnx.
 */
export function heavyFp16Copy(id: string, dir: string): { fp16Id: string } {
  const fp16Id = `${id}-fp16-heavy`;
  const out = join(dir, fp16Id);
  mkdirSync(out, { recursive: true });
  execFileSync('/usr/bin/python3', ['-c', 'import sys; from scripts.zoo.export import convert_fp16; convert_fp16(sys.argv[1], sys.argv[2])',
    join(ROOT, 'models', id, 'model.onnx'), join(out, 'model_fp16.onnx')], { cwd: ROOT, env: { ...process.env, PYTHONPATH: ROOT }, stdio: 'pipe' });
  const bytes = readFileSync(join(out, 'model_fp16.onnx'));
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', id, 'manifest.json'), 'utf8'));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({
    ...manifest, id: fp16Id, tier: 'heavy', fallback: id,
    onnx: { key: `models/${fp16Id}/model_fp16.onnx`, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength, precision: 'fp16' },
    input: { ...manifest.input, dtype: 'float16' },
  }));
  return { fp16Id };
}
