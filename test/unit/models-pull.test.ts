// npm run models:pull against a hub that is a loopback server over local files: the conversion
// path (timm config.json + safetensors -> strict load -> ONNX + manifest) without internet.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

const NAME = 'vit_cifar.local_test';
let tmp: string;
let server: Server;
let hub: string;
const requested: string[] = [];

function makeCheckpoint(dir: string, renameKey = false) {
  // A timm-layout state_dict of the zoo's vit_cifar, written as safetensors by the zoo's own writer.
  const py = `
import torch, sys
from scripts.zoo.registry import create_model
from scripts.zoo.checkpoint import save_safetensors
torch.manual_seed(1)
sd = create_model("vit_cifar").state_dict()
if ${renameKey ? 'True' : 'False'}:
    sd["head.weight_renamed"] = sd.pop("head.weight")
save_safetensors(sd, sys.argv[1])`;
  execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'model.safetensors')], { cwd: ROOT, env: { ...process.env, PYTHONPATH: ROOT } });
}

function writeRepo(name: string, renameKey = false) {
  const dir = join(tmp, 'hub', 'timm', name, 'resolve', 'main');
  mkdirSync(dir, { recursive: true });
  makeCheckpoint(dir, renameKey);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architecture: 'vit_cifar', num_classes: 10,
    label_names: ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    pretrained_cfg: { input_size: [3, 32, 32], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], crop_pct: 1.0, interpolation: 'bicubic' },
  }));
}

// Asynchronous: the hub server answers from this same process.
function pull(name: string, extra: string[] = [], hubUrl = hub): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [
    join(ROOT, 'scripts', 'models-pull.mjs'), name, '--hub', hubUrl, '--no-publish',
    '--out', join(tmp, 'out', name), '--cache', join(tmp, 'cache'), ...extra,
  ], { cwd: ROOT, timeout: 120_000 });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pull-'));
  writeRepo(NAME);
  writeRepo('vit_cifar.bad_keys', true);
  server = createServer((req, res) => {
    requested.push(req.url!);
    try {
      const body = readFileSync(join(tmp, 'hub', decodeURIComponent(req.url!)));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(() => { server?.close(); rmSync(tmp, { recursive: true, force: true }); });

describe('npm run models:pull', () => {
  it('downloads config + safetensors, loads them strictly, exports ONNX with the checkpoint\'s preprocessing and labels', async () => {
    const r = await pull(NAME, ['--id', 'pulled']);
    expect(r.status, r.stderr).toBe(0);
    expect(requested).toEqual(expect.arrayContaining([`/timm/${NAME}/resolve/main/config.json`, `/timm/${NAME}/resolve/main/model.safetensors`]));
    const m = JSON.parse(readFileSync(join(tmp, 'out', NAME, 'manifest.json'), 'utf8'));
    expect(m.id).toBe('pulled');
    expect(m.source).toContain(`timm/${NAME}`);
    expect(m.preprocess).toMatchObject({ size: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], crop_pct: 1, interpolation: 'bicubic' });
    expect(m.labels[0]).toBe('plane');
    // The exporter ran the ONNX against the PyTorch model holding the pulled weights.
    expect(m.verification.status).toBe('ok');
    expect(m.verification.logits_max_abs_diff).toBeLessThan(1e-4);
  }, 120_000);

  it('refuses a checkpoint whose keys do not match the definition (strict loading)', async () => {
    const r = await pull('vit_cifar.bad_keys');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: export of vit_cifar failed/);
    expect(r.stderr).toMatch(/head\.weight/);
  }, 120_000);

  it('a missing model is a clear 404 error', async () => {
    const r = await pull('vit_cifar.no_such_tag');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('HTTP 404 (no such model or file on the hub)');
  });

  it('offline, it fails with a clear message instead of hanging', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await pull(NAME + 'x', [], `http://127.0.0.1:${port}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(r.stderr).toContain('scripts.zoo.export');
  });
});
