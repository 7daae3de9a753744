// Reads an ONNX graph's inputs and outputs (names, element types, shapes) with
// onnxruntime-web in Node, so manifests can be validated against the real graph.
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export async function inspectOnnx(bytes) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const describe = (m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? m.shape : [] });
    return { inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) };
  } finally {
    await session.release();
  }
}
