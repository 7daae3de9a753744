// Bring your own model, proven on a real ImageNet classifier: SqueezeNet 1.1 (fp16 input,
// BGR 0..255 minus means, 4-D probability output) registered by models:add and served by the
// API, against an independent reference: PIL preprocessing + onnxruntime-node.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat16 } from '../../src/preprocess/tensor';
import { pilReference } from '../support/pil';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const MODEL = 'squeezenet1.1-imagenet';
const ONNX = join(SHARED_DIR, 'models/squeezenet1.1-fp16/SqueezeNet_fp16.onnx');
const files = readdirSync(join(SHARED_DIR, 'images')).filter((f) => /\.jpe?g$/i.test(f)).sort();
const classIndex = JSON.parse(readFileSync(join(SHARED_DIR, 'models/imagenet_class_index.json'), 'utf8')) as Record<string, [string, string]>;
const synsetToIndex = new Map(Object.entries(classIndex).map(([i, [syn]]) => [syn, Number(i)]));

let w: TestWorker;
beforeAll(async () => { w = await startWorker({ models: [MODEL] }); });
afterAll(async () => { await w?.dispose(); });

/** Independent reference: PIL resize/crop, BGR minus Caffe means, fp16, onnxruntime-node. */
async function reference(): Promise<Float32Array[]> {
  const session = await ortNode.InferenceSession.create(ONNX);
  const refs = pilReference(files.map((f) => join(SHARED_DIR, 'images', f)), 224, 0.875, 'bilinear');
  const means = [103.939, 116.779, 123.68];
  const out: Float32Array[] = [];
  for (const r of refs) {
    const x = new Float32Array(3 * 224 * 224);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 224 * 224; i++) x[c * 224 * 224 + i] = r.crop[i * 3 + (2 - c)]! - means[c]!;
    const res = await session.run({ data_0: new ortNode.Tensor('float16', toFloat16(x), [1, 3, 224, 224]) });
    const t = res.softmaxout_1!;
    const d = t.data as Uint16Array | Float32Array;
    out.push(d instanceof Uint16Array ? Float32Array.from(d, halfToFloat) : Float32Array.from(d));
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}

describe('SqueezeNet 1.1 (ImageNet) served through /v1/classify', () => {
  it('agrees with PIL + onnxruntime-node on all 43 real photos (top-1, probabilities)', async () => {
    const refs = await reference();
    let agree = 0, maxDiff = 0, top1True = 0, top5True = 0;
    for (const [i, f] of files.entries()) {
      const res = await w.fetch(`/v1/classify?model=${MODEL}&top_k=100`, { method: 'POST', body: new Uint8Array(readFileSync(join(SHARED_DIR, 'images', f))), headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).toBe(200);
      const preds = ((await res.json()) as { results: Array<{ predictions: Array<{ index: number; score: number }> }> }).results[0]!.predictions;
      const ref = refs[i]!;
      let refTop = 0;
      for (let k = 1; k < ref.length; k++) if (ref[k]! > ref[refTop]!) refTop = k;
      if (preds[0]!.index === refTop) agree++;
      for (const p of preds) maxDiff = Math.max(maxDiff, Math.abs(p.score - ref[p.index]!));
      const truth = synsetToIndex.get(f.slice(0, 9));
      if (preds[0]!.index === truth) top1True++;
      if (preds.slice(0, 5).some((p) => p.index === truth)) top5True++;
    }
    console.log(`squeezenet vs reference: top-1 agreement ${agree}/${files.length}, max abs probability difference ${maxDiff.toExponential(2)}`);
    console.log(`squeezenet vs true classes: top-1 ${top1True}/${files.length}, top-5 ${top5True}/${files.length}`);
    expect(agree).toBe(files.length);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
  });
});

describe('npm run models:add', () => {
  const run = (args: string[]) => spawnSync('node', [join(ROOT, 'scripts/models-add.mjs'), ...args], { encoding: 'utf8' });
  it('refuses a label file that does not match the output, with a clear message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'add-'));
    writeFileSync(join(dir, 'labels.json'), JSON.stringify(['a', 'b', 'c']));
    const r = run(['--onnx', ONNX, '--labels', join(dir, 'labels.json'), '--id', 'bad', '--preset', 'caffe-bgr', '--out', dir, '--no-publish']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/expected \[batch, 3\].*for 3 labels/);
  });
  it('refuses a preprocessing size that does not match the graph', () => {
    const dir = mkdtempSync(join(tmpdir(), 'add-'));
    const r = run(['--onnx', ONNX, '--labels', join(SHARED_DIR, 'models/imagenet_class_index.json'), '--id', 'bad', '--preset', 'cifar10', '--out', dir, '--no-publish']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/preprocessing produces 32x32/);
  });
  it('imports a Hugging Face preprocessor_config.json and writes a verified manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'add-'));
    const hf = { do_resize: true, size: { shortest_edge: 256 }, do_center_crop: true, crop_size: { height: 224, width: 224 }, resample: 2, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor' };
    writeFileSync(join(dir, 'hf.json'), JSON.stringify(hf));
    const r = run(['--onnx', ONNX, '--labels', join(SHARED_DIR, 'models/squeezenet1.1-fp16/Labels.txt'), '--id', 'hf-style', '--config', join(dir, 'hf.json'), '--out', dir, '--no-publish']);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'hf-style/manifest.json'), 'utf8'));
    expect(m.preprocess).toMatchObject({ size: 224, resize: 'shortest_edge', crop_pct: 0.875, interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(m.labels[0]).toBe('tench, Tinca tinca');
    expect(m.input).toEqual({ name: 'data_0', dtype: 'float16', layout: 'NCHW', batch: 1 });
    const sha = execFileSync('sha256sum', [ONNX], { encoding: 'utf8' }).split(' ')[0];
    expect(m.onnx.sha256).toBe(sha);
  });
});
