// Runs an ONNX graph once with onnxruntime-web (the Worker's runtime) in Node, for the zoo's
// export verification when the Python onnxruntime package is absent.
//   node scripts/zoo/ort_run.mjs model.onnx input.bin d0,d1,d2,d3 out_dir
// input.bin: raw little-endian values of the graph's first input (float32, or float16 bits when the
// input is float16). Writes out_dir/<output>.bin (float32 values) and out_dir/outputs.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const [model, inputPath, dimsArg, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: ort_run.mjs model.onnx input.bin d0,d1,... out_dir');
  process.exit(2);
}
const session = await ort.InferenceSession.create(readFileSync(model));
const meta = session.inputMetadata[0];
const dims = dimsArg.split(',').map(Number);
const raw = readFileSync(inputPath);
const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
const type = meta.isTensor ? meta.type : 'float32';
const data = type === 'float16' ? new Uint16Array(buf) : new Float32Array(buf);
const result = await session.run({ [session.inputNames[0]]: new ort.Tensor(type, data, dims) });
const info = {};
for (const name of session.outputNames) {
  const t = result[name];
  let values;
  if (t.type === 'float16') values = Float32Array.from(t.data, (h) => halfToFloat(h));
  else values = Float32Array.from(t.data);
  writeFileSync(join(outDir, `${name}.bin`), Buffer.from(values.buffer));
  info[name] = { dims: t.dims, type: t.type };
}
writeFileSync(join(outDir, 'outputs.json'), JSON.stringify(info));
await session.release();
