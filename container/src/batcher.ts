import * as ort from 'onnxruntime-node';
import type { LoadedModel } from './store';
import type { OutputTensor } from './oip';

interface Pending { data: Float32Array | Uint16Array; batch: number; resolve(o: OutputTensor[]): void; reject(e: unknown): void }

export interface BatcherOptions { maxBatch: number; maxDelayMs: number }

/**
 * Dynamic batching per model: requests that arrive within maxDelayMs of the first waiting one
 * (or until maxBatch images are waiting) run as one session.run, and each caller gets its own
 * rows back. A model runs one batch at a time; the next batch collects while it runs.
 */
export class Batcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  readonly stats = { runs: 0, images: 0 };

  constructor(private readonly model: LoadedModel, private readonly o: BatcherOptions) {}

  infer(data: Float32Array | Uint16Array, batch: number): Promise<OutputTensor[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ data, batch, resolve, reject });
      this.schedule();
    });
  }

  private waiting(): number {
    return this.queue.reduce((n, p) => n + p.batch, 0);
  }

  private schedule(): void {
    if (this.running) return;
    if (this.waiting() >= this.o.maxBatch || this.o.maxDelayMs === 0) return void this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.o.maxDelayMs);
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || !this.queue.length) return;
    const group: Pending[] = [];
    let images = 0;
    while (this.queue.length && (group.length === 0 || images + this.queue[0]!.batch <= this.o.maxBatch)) {
      const p = this.queue.shift()!;
      group.push(p);
      images += p.batch;
    }
    this.running = true;
    try {
      const outputs = await this.run(group, images);
      let row = 0;
      for (const p of group) {
        p.resolve(outputs.map((t) => {
          const per = t.data.length / images;
          return { name: t.name, shape: [p.batch, ...t.shape.slice(1)], data: t.data.slice(row * per, (row + p.batch) * per) };
        }));
        row += p.batch;
      }
    } catch (e) {
      for (const p of group) p.reject(e);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  private async run(group: Pending[], images: number): Promise<OutputTensor[]> {
    const { manifest: m, session } = this.model;
    const fp16 = m.input.dtype === 'float16';
    const per = group[0]!.data.length / group[0]!.batch;
    const all = fp16 ? new Uint16Array(per * images) : new Float32Array(per * images);
    let o = 0;
    for (const p of group) { all.set(p.data as never, o); o += p.data.length; }
    const s = m.preprocess.size;
    const shape = m.input.layout === 'NCHW' ? [images, 3, s, s] : [images, s, s, 3];
    const names = [m.outputs.logits, ...(m.outputs.embedding ? [m.outputs.embedding] : [])];
    const result = await session.run({ [m.input.name]: new ort.Tensor(fp16 ? 'float16' : 'float32', all, shape) }, names);
    this.stats.runs++;
    this.stats.images += images;
    return names.map((name) => {
      const t = result[name]!;
      const data = t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, f16ToF32) : (t.data as Float32Array);
      return { name, shape: [...t.dims], data };
    });
  }
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
