// `npm run eval` (scripts/eval.mjs) against the real Worker on a loopback port: a folder of
// class-named subfolders in, the same top-1/top-5 as asking the API image by image out, with
// the model's test-time views and without them (--tta false).
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, cifarHoldout, indexTar, readMember } from '../support/tar';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const MODEL = 'convmixer-cifar10';
// Folder names as people write them: case, spaces and separators are ignored.
const FOLDERS: Record<string, string> = { cat: 'Cat', ship: 'ship', automobile: 'auto mobile', dog: 'dog' };
const PER_CLASS = 12;

let w: TestWorker;
let dir: string;
const images: Array<{ bytes: Uint8Array; label: number }> = [];

beforeAll(async () => {
  const tar = indexTar(join(SHARED_DIR, 'datasets/cifar10-train.tar'));
  dir = mkdtempSync(join(tmpdir(), 'edge-vit-eval-'));
  for (const [cls, folder] of Object.entries(FOLDERS)) {
    const label = CIFAR10_CLASSES.indexOf(cls);
    mkdirSync(join(dir, folder));
    cifarHoldout(tar).filter((h) => h.label === label).slice(0, PER_CLASS).forEach((h, i) => {
      const bytes = readMember(tar, h.name);
      writeFileSync(join(dir, folder, `${i}.jpg`), bytes);
      images.push({ bytes, label });
    });
  }
  mkdirSync(join(dir, 'not-a-class'));
  writeFileSync(join(dir, 'not-a-class', 'x.jpg'), images[0]!.bytes);
  w = await startWorker({ models: [MODEL], port: 0 });
});
afterAll(async () => { await w?.dispose(); if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Top-1 / top-5 hits asking the API one image at a time. */
async function direct(extra: string) {
  let top1 = 0, top5 = 0;
  for (const img of images) {
    const res = await w.fetch(`/v1/classify?model=${MODEL}&top_k=5${extra}`, { method: 'POST', body: img.bytes, headers: { 'content-type': 'image/jpeg' } });
    const ranks = ((await res.json()) as { results: Array<{ predictions: Array<{ index: number }> }> }).results[0]!.predictions.map((p) => p.index);
    if (ranks[0] === img.label) top1++;
    if (ranks.includes(img.label)) top5++;
  }
  return { top1, top5 };
}

async function evalCli(...args: string[]) {
  const { stdout, stderr } = await promisify(execFile)('node', ['scripts/eval.mjs', '--model', MODEL, '--dir', dir, '--url', w.url.origin, '--batch', '5', ...args], { cwd: ROOT });
  const row = stdout.split('\n').find((l) => l.startsWith(`| ${MODEL} |`));
  expect(row, stdout).toBeTruthy();
  const [, , n, top1, top5, failed] = row!.split('|').map((c) => c.trim());
  return { n: Number(n), top1: parseFloat(top1!), top5: parseFloat(top5!), failed: Number(failed), stderr };
}

describe('npm run eval', () => {
  for (const [name, args, extra] of [['as served (test-time views)', [], ''], ['--tta false', ['--tta', 'false'], '&tta=false']] as const) {
    it(`${name}: the top-1/top-5 of asking the API image by image`, async () => {
      const got = await evalCli(...args);
      const want = await direct(extra);
      const pct = (k: number) => Number((100 * k / images.length).toFixed(2));
      console.log(`eval ${name}: top-1 ${got.top1}% top-5 ${got.top5}% over ${got.n} images`);
      expect(got).toMatchObject({ n: images.length, failed: 0, top1: pct(want.top1), top5: pct(want.top5) });
      expect(got.stderr).toMatch(/folder "not-a-class" matches no label/);
    });
  }
});
