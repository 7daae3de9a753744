// The companion container (container/) as a real child process on loopback, plus a heavy-tier
// copy of a shipped model so the same ONNX can be compared across the two backends.
import type { ChildProcess } from 'node:child_process';
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
export function heavyCopy(id: string): { dir: string; heavyId: string } {
  const dir = mkdtempSync(join(tmpdir(), 'heavy-'));
  const heavyId = `${id}-heavy`;
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', id, 'manifest.json'), 'utf8'));
  mkdirSync(join(dir, heavyId));
  copyFileSync(join(ROOT, 'models', id, 'model.onnx'), join(dir, heavyId, 'model.onnx'));
  writeFileSync(join(dir, heavyId, 'manifest.json'), JSON.stringify({
    ...manifest, id: heavyId, tier: 'heavy', fallback: id, onnx: { ...manifest.onnx, key: `models/${heavyId}/model.onnx` },
  }));
  return { dir, heavyId };
}
