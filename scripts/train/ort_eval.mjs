// Runs an ONNX classifier with onnxruntime-web (the Worker's runtime, WASM, 1 thread) over a
// float32 [N,3,S,S] tensor file in batches; writes the logits as float32 [N,C].
//   node scripts/train/ort_eval.mjs model.onnx input.bin N S out.bin
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const [model, input, nArg, sArg, out] = process.argv.slice(2);
const n = Number(nArg), s = Number(sArg), per = 3 * s * s, batch = 100;
const raw = readFileSync(input);
const x = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const session = await ort.InferenceSession.create(readFileSync(model));
const chunks = [];
for (let i = 0; i < n; i += batch) {
  const b = Math.min(batch, n - i);
  const t = new ort.Tensor('float32', x.subarray(i * per, (i + b) * per), [b, 3, s, s]);
  const r = await session.run({ [session.inputNames[0]]: t });
  chunks.push(Float32Array.from(r.logits.data));
}
const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
let o = 0;
for (const c of chunks) { all.set(c, o); o += c.length; }
writeFileSync(out, Buffer.from(all.buffer));
