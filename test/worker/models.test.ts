// Every shipped compact model, through the API in workerd, against its PyTorch-eager
// reference (models/<id>/parity.json, written by scripts/train/release.py from the same
// weights) and its stated hold-out accuracy. Hold-out images are 32x32, so the API's
// preprocessing is exact and any difference is the runtime's.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarHoldout, indexTar, readMember, type TarIndex } from '../support/tar';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

/** One view's outputs (the raw graph) and, for a model with test-time views, the mean over them (what the API serves). */
interface Outputs { logits: number[][]; embedding: number[][] }
interface Parity extends Outputs { tar_member: string[]; views?: string[]; served?: Outputs; top1_members?: string[]; top1?: number[] }
interface Manifest { id: string; tier: string; onnx: { precision: string }; tta?: string[]; metrics?: { top1?: number }; outputs: { embedding: string | null } }

const modelsDir = join(ROOT, 'models');
const shipped = existsSync(modelsDir)
  ? readdirSync(modelsDir).filter((d) => existsSync(join(modelsDir, d, 'manifest.json'))).map((d) => JSON.parse(readFileSync(join(modelsDir, d, 'manifest.json'), 'utf8')) as Manifest)
  : [];
const parityOf = (id: string): Parity | null => {
  // int8 variants are checked against their fp32 parent's PyTorch outputs.
  for (const dir of [id, id.replace(/-int8$/, '')]) {
    const p = join(modelsDir, dir, 'parity.json');
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as Parity;
  }
  return null;
};
const DEFAULT = 'convmixer-cifar10';

let w: TestWorker;
let tar: TarIndex;
beforeAll(async () => {
  tar = indexTar(join(SHARED_DIR, 'datasets/cifar10-train.tar'));
  w = await startWorker({ models: shipped.map((m) => m.id) });
});
afterAll(async () => { await w?.dispose(); });

async function post<T>(path: string, images: Uint8Array[]): Promise<{ tta: string[]; results: T[] }> {
  const form = new FormData();
  for (const img of images) form.append('image', new Blob([img], { type: 'image/jpeg' }), 'x.jpg');
  const res = await w.fetch(path, { method: 'POST', body: form });
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as { tta: string[]; results: T[] };
}
const classifyWithViews = (model: string, images: Uint8Array[], extra = '') =>
  post<{ predictions: Array<{ index: number }>; logits: number[] }>(`/v1/classify?model=${model}&top_k=10&logits=true${extra}`, images);
const classify = async (model: string, images: Uint8Array[], extra = '') => (await classifyWithViews(model, images, extra)).results;
const embed = (model: string, images: Uint8Array[], extra = '') =>
  post<{ embedding: number[]; dim: number }>(`/v1/embed?model=${model}&normalize=false${extra}`, images);

const chunks = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

describe('the shipped models', () => {
  it('include the embedded default', () => {
    expect(shipped.map((m) => m.id)).toContain(DEFAULT);
  });

  for (const m of shipped) {
    const parity = parityOf(m.id);
    describe(m.id, () => {
      if (m.onnx.precision === 'fp32') {
        // As served (the mean over the manifest's test-time views), then from one view (tta=false).
        const cases: Array<[string, string, (p: Parity) => Outputs, (p: Parity) => string[]]> = [
          ['as served', '', (p) => p.served ?? p, (p) => p.views ?? []],
          ['one view (tta=false)', '&tta=false', (p) => p, () => []],
        ];
        for (const [name, extra, refOf, viewsOf] of cases) {
          it(`fp32 ${name}: logits and embeddings match PyTorch eager (max abs diff <= 1e-3, top-1 100%)`, async () => {
            expect(parity, `models/${m.id}/parity.json`).not.toBeNull();
            expect(parity!.views ?? [], 'parity.json views = manifest tta').toEqual(m.tta ?? []);
            const ref = refOf(parity!);
            const imgs = parity!.tar_member.map((n) => readMember(tar, n));
            const got = await classifyWithViews(m.id, imgs, extra);
            const emb = await embed(m.id, imgs, extra);
            expect(got.tta).toEqual(viewsOf(parity!));
            expect(emb.tta).toEqual(viewsOf(parity!));
            let maxLogit = 0, maxEmb = 0;
            got.results.forEach((r, i) => {
              const row = ref.logits[i]!;
              r.logits.forEach((v, k) => { maxLogit = Math.max(maxLogit, Math.abs(v - row[k]!)); });
              expect(r.predictions[0]!.index).toBe(row.indexOf(Math.max(...row)));
              emb.results[i]!.embedding.forEach((v, k) => { maxEmb = Math.max(maxEmb, Math.abs(v - ref.embedding[i]![k]!)); });
            });
            console.log(`${m.id} ${name}: max abs logit diff ${maxLogit.toExponential(2)}, max abs embedding diff ${maxEmb.toExponential(2)} over ${imgs.length} images`);
            expect(maxLogit).toBeLessThanOrEqual(1e-3);
            expect(maxEmb).toBeLessThanOrEqual(1e-3);
          });
        }
      } else {
        it(`${m.onnx.precision}: top-1 as served agrees with PyTorch fp32 on >= 99% of 500 hold-out images`, async () => {
          expect(parity?.top1_members, `models/${m.id.replace(/-int8$/, '')}/parity.json top1_members`).toBeTruthy();
          let agree = 0;
          const members = parity!.top1_members!;
          for (const [ci, chunk] of chunks(members.map((n, i) => ({ n, i })), 16).entries()) {
            const res = await classify(m.id, chunk.map((x) => readMember(tar, x.n)));
            res.forEach((r, j) => { if (r.predictions[0]!.index === parity!.top1![ci * 16 + j]) agree++; });
          }
          console.log(`${m.id}: top-1 agreement with PyTorch fp32 ${agree}/${members.length}`);
          expect(agree / members.length).toBeGreaterThanOrEqual(0.99);
        });
      }
    });
  }

  it('the default classifies the 5,000 hold-out images at its stated accuracy, within one point', async () => {
    const m = shipped.find((x) => x.id === DEFAULT)!;
    const stated = m.metrics?.top1;
    expect(stated, 'manifest metrics.top1').toBeTypeOf('number');
    const holdout = cifarHoldout(tar);
    expect(holdout).toHaveLength(5000);
    let correct = 0;
    for (const chunk of chunks(holdout, 16)) {
      const res = await classify(DEFAULT, chunk.map((x) => readMember(tar, x.name)), '&logits=false');
      res.forEach((r, j) => { if (r.predictions[0]!.index === chunk[j]!.label) correct++; });
    }
    const measured = correct / holdout.length;
    console.log(`${DEFAULT}: hold-out top-1 through the API ${(measured * 100).toFixed(2)}% (manifest states ${(stated! * 100).toFixed(2)}%)`);
    expect(Math.abs(measured - stated!)).toBeLessThanOrEqual(0.01);
  }, 600_000);
});
