/**
 * Open Inference Protocol v2 (KServe / Triton) REST encoding with the binary tensor data
 * extension: a JSON header followed by raw little-endian tensor bytes, the header's length in
 * `Inference-Header-Content-Length`. Used to talk to the companion container or any OIP server.
 */
export interface OipTensor { name: string; datatype: 'FP32' | 'FP16'; shape: number[]; bytes: Uint8Array }

export function encodeInferRequest(inputs: OipTensor[], outputs: string[]): { body: Uint8Array; headerLength: number } {
  const header = {
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: t.bytes.byteLength } })),
    outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(json.byteLength + inputs.reduce((n, t) => n + t.bytes.byteLength, 0));
  body.set(json, 0);
  let o = json.byteLength;
  for (const t of inputs) { body.set(t.bytes, o); o += t.bytes.byteLength; }
  return { body, headerLength: json.byteLength };
}

interface OipOutput { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }

/** Decodes an infer response (JSON, or JSON header + binary outputs) into float32 arrays. */
export function decodeInferResponse(body: Uint8Array, headerLength: number | null): Map<string, { shape: number[]; data: Float32Array }> {
  const jsonEnd = headerLength ?? body.byteLength;
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, jsonEnd))) as { outputs?: OipOutput[] };
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let o = jsonEnd;
  for (const t of header.outputs ?? []) {
    const size = t.parameters?.binary_data_size;
    let data: Float32Array;
    if (size !== undefined) {
      if (t.datatype !== 'FP32') throw new Error(`binary output ${t.name} is ${t.datatype}; expected FP32`);
      if (o + size > body.byteLength) throw new Error('binary output overruns the body');
      data = new Float32Array(body.slice(o, o + size).buffer);
      o += size;
    } else {
      data = Float32Array.from(t.data ?? []);
    }
    out.set(t.name, { shape: t.shape, data });
  }
  return out;
}

export function float32Bytes(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
