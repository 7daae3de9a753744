// Builds and validates a manifest for an ONNX classifier (the "bring your own model" path).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { inspectOnnx } from './onnx-inspect.mjs';
import { parseLabels } from './labels.mjs';
import { PRESETS, fromHuggingFace, fromTimm } from './presets.mjs';

const ELEMENT = { float32: 'float32', float16: 'float16' };

export class RegistrationError extends Error {}

/** Resolves the preprocessing block from a preset name and/or a config file. */
export function resolvePreprocess({ preset, config, overrides = {} }) {
  let p = preset ? PRESETS[preset] : undefined;
  if (preset && !p) throw new RegistrationError(`unknown preset "${preset}" (have: ${Object.keys(PRESETS).join(', ')})`);
  if (config) {
    const cfg = JSON.parse(readFileSync(config, 'utf8'));
    p = cfg.image_processor_type || cfg.feature_extractor_type || cfg.do_normalize !== undefined ? fromHuggingFace(cfg)
      : cfg.pretrained_cfg || cfg.input_size ? fromTimm(cfg)
      : { ...(p ?? {}), ...(cfg.preprocess ?? cfg) };
  }
  if (!p) throw new RegistrationError('give --preset or --config');
  return { ...p, ...overrides };
}

/**
 * Checks the graph against what the manifest will claim: one 4-D image input with 3 channels
 * in the declared layout and the preprocessing size (or dynamic), float32/float16, and a
 * classifier output whose per-image size equals the label count.
 */
export function validateGraph(meta, { preprocess, labels, layout, logitsName, embeddingName }) {
  const input = meta.inputs[0];
  if (meta.inputs.length !== 1) throw new RegistrationError(`expected one input, the graph has ${meta.inputs.length}: ${meta.inputs.map((i) => i.name).join(', ')}`);
  if (!ELEMENT[input.type]) throw new RegistrationError(`input "${input.name}" is ${input.type}; only float32 and float16 inputs are supported`);
  if (input.shape.length !== 4) throw new RegistrationError(`input "${input.name}" has shape [${input.shape}]; expected 4-D`);
  const [n, a, b, c] = input.shape;
  const channels = layout === 'NCHW' ? a : c;
  const spatial = layout === 'NCHW' ? [b, c] : [a, b];
  if (channels !== 3) throw new RegistrationError(`input "${input.name}" [${input.shape}] does not have 3 channels in ${layout} layout`);
  for (const d of spatial) {
    if (typeof d === 'number' && d !== preprocess.size) throw new RegistrationError(`input "${input.name}" is [${input.shape}] but preprocessing produces ${preprocess.size}x${preprocess.size}`);
  }
  const out = meta.outputs.find((o) => o.name === logitsName);
  if (!out) throw new RegistrationError(`no output "${logitsName}" (outputs: ${meta.outputs.map((o) => o.name).join(', ')})`);
  const perImage = out.shape.slice(1).filter((d) => d !== 1);
  if (perImage.length !== 1 || (typeof perImage[0] === 'number' && perImage[0] !== labels.length)) {
    throw new RegistrationError(`output "${logitsName}" has shape [${out.shape}]; expected [batch, ${labels.length}] (singleton dims allowed) for ${labels.length} labels`);
  }
  if (embeddingName && !meta.outputs.some((o) => o.name === embeddingName)) throw new RegistrationError(`no output "${embeddingName}"`);
  return { inputName: input.name, dtype: ELEMENT[input.type], batch: typeof n === 'number' ? n : undefined };
}

export async function registerModel(o) {
  const bytes = readFileSync(o.onnx);
  const labels = parseLabels(readFileSync(o.labels, 'utf8'));
  const preprocess = resolvePreprocess(o);
  const layout = o.layout ?? 'NCHW';
  let meta;
  try {
    meta = await inspectOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new RegistrationError(`onnxruntime cannot load ${o.onnx}: ${e.message}`);
  }
  const logitsName = o.logits ?? meta.outputs[0].name;
  const embeddingName = o.embedding ?? (meta.outputs.some((x) => x.name === 'embedding') ? 'embedding' : null);
  const g = validateGraph(meta, { preprocess, labels, layout, logitsName, embeddingName });
  const file = basename(o.onnx);
  const manifest = {
    id: o.id,
    family: o.family ?? 'other',
    variant: o.variant ?? file.replace(/\.onnx$/, ''),
    version: o.version ?? '1.0.0',
    tier: o.tier ?? 'edge',
    onnx: { key: `models/${o.id}/${file}`, sha256: await sha256File(o.onnx, o.progress), bytes: bytes.byteLength, precision: g.dtype === 'float16' ? 'fp16' : 'fp32' },
    input: { name: g.inputName, dtype: g.dtype, layout, ...(g.batch ? { batch: g.batch } : {}) },
    outputs: { logits: logitsName, embedding: embeddingName, kind: o.outputKind ?? 'logits' },
    preprocess,
    labels,
    source: o.source ?? `registered from ${file} by scripts/models-add.mjs`,
    license: o.license ?? 'unknown',
  };
  const dir = join(o.out, o.id);
  mkdirSync(dir, { recursive: true });
  copyFileSync(o.onnx, join(dir, file));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { manifest, dir };
}

/** sha256 of a file, streamed, with an optional progress callback (bytes done, total). */
export async function sha256File(path, progress) {
  const { createReadStream } = await import('node:fs');
  const total = statSync(path).size;
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk);
    done += chunk.length;
    progress?.(done, total);
  }
  return hash.digest('hex');
}
