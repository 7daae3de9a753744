/**
 * onnxruntime-web inside workerd.
 *
 * workerd refuses to compile WebAssembly from bytes ("Wasm code generation disallowed by
 * embedder"), and ORT 1.30 has no option to accept a precompiled module. So: ORT's .wasm is
 * imported as a module; ORT is given a placeholder `wasmBinary` so it does not try to fetch;
 * and while ORT initialises (during the first session creation), WebAssembly.instantiate on
 * bytes is redirected to the imported module. This leans on ORT's loader internals: the
 * version is pinned in package.json and the worker tests fail if an upgrade breaks it.
 */
import * as ort from 'onnxruntime-web/wasm';
import ORT_WASM from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';

export type OrtSession = ort.InferenceSession;
export { ort };

let firstSession: Promise<unknown> | null = null;

export async function createSession(model: Uint8Array): Promise<OrtSession> {
  if (firstSession) {
    await firstSession.catch(() => undefined);
    if (initialised) return ort.InferenceSession.create(model, SESSION_OPTIONS);
  }
  const created = createFirst(model);
  firstSession = created;
  return created;
}

let initialised = false;
let linearMemory: WebAssembly.Memory | null = null;

/**
 * Bytes of onnxruntime-web's WebAssembly linear memory: weights, arena and activations of every
 * cached session. It only grows, so it is the peak; most of an isolate's memory is here.
 */
export function ortMemoryBytes(): number {
  return linearMemory?.buffer.byteLength ?? 0;
}

function findMemory(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): WebAssembly.Memory | null {
  const exported = Object.values(instance.exports).find((v) => v instanceof WebAssembly.Memory);
  if (exported) return exported as WebAssembly.Memory;
  for (const mod of Object.values(imports ?? {})) {
    const imported = Object.values(mod).find((v) => v instanceof WebAssembly.Memory);
    if (imported) return imported as WebAssembly.Memory;
  }
  return null;
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  // MLAS keeps a pre-packed copy of every GEMM weight beside the original; in WASM that copy
  // buys no measurable speed (bench:compare: 0.97x) and costs memory the isolate does not have
  // (ViT-Ti/16 fp32: 77 -> 64 MiB of ORT heap, npm run bench).
  extra: { session: { disable_prepacking: '1' } },
};

async function createFirst(model: Uint8Array): Promise<OrtSession> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = new Uint8Array([0]);
  ort.env.logLevel = 'error';
  const original = WebAssembly.instantiate;
  WebAssembly.instantiate = ((source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return original(source, imports);
    return original(ORT_WASM, imports).then((instance) => {
      linearMemory = findMemory(instance, imports);
      return { instance, module: ORT_WASM };
    });
  }) as typeof WebAssembly.instantiate;
  try {
    const session = await ort.InferenceSession.create(model, SESSION_OPTIONS);
    initialised = true;
    return session;
  } finally {
    WebAssembly.instantiate = original;
  }
}
