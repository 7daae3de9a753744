import { OipError } from './errors';
import { inputShape, oipType, type Manifest } from './manifest';

/** One infer request, decoded and checked against the model's input. */
export interface InferRequest {
  id?: string;
  batch: number;
  data: Float32Array | Uint16Array;
  outputs: Array<{ name: string; binary: boolean }>;
}

export interface OutputTensor { name: string; shape: number[]; data: Float32Array }

interface RequestHeader {
  id?: unknown;
  inputs?: Array<{ name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown; parameters?: { binary_data_size?: unknown } }>;
  outputs?: Array<{ name?: unknown; parameters?: { binary_data?: unknown } }>;
  parameters?: { binary_data_output?: unknown };
}

const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);

/**
 * Parses POST /v2/models/{name}/infer: JSON tensor data, or the binary-data extension (a JSON
 * header of Inference-Header-Content-Length bytes followed by raw little-endian tensors).
 */
export function parseInfer(m: Manifest, body: Uint8Array, headerLength: number | null): InferRequest {
  if (headerLength !== null && (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength)) {
    throw new OipError(400, 'Inference-Header-Content-Length is not a length within the body');
  }
  let header: RequestHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength ?? body.byteLength)));
  } catch {
    throw new OipError(400, 'the request header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || !Array.isArray(header.inputs) || header.inputs.length !== 1) {
    throw new OipError(400, `expected exactly one input tensor "${m.input.name}"`);
  }
  const t = header.inputs[0]!;
  if (t.name !== m.input.name) throw new OipError(400, `unknown input "${String(t.name)}"; this model's input is "${m.input.name}"`);
  const datatype = oipType(m.input.dtype);
  if (t.datatype !== datatype) throw new OipError(400, `input datatype must be ${datatype}`);
  const want = inputShape(m);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d, i) => Number.isInteger(d) && (i === 0 ? d >= 1 : d === want[i]))) {
    throw new OipError(400, `input shape must be [N, ${want.slice(1).join(', ')}]`);
  }
  const batch = shape[0] as number;
  const count = batch * (want[1]! * want[2]! * want[3]!);
  const data = headerLength === null ? jsonData(t.data, count, datatype) : binaryData(body, headerLength, t.parameters?.binary_data_size, count, datatype);
  const binaryDefault = header.parameters?.binary_data_output === true;
  const known = [m.outputs.logits, m.outputs.embedding].filter((x): x is string => !!x);
  const requested: NonNullable<RequestHeader['outputs']> = header.outputs ?? known.map((name) => ({ name }));
  const outputs = requested.map((o) => {
    if (typeof o.name !== 'string' || !known.includes(o.name)) throw new OipError(400, `unknown output "${String(o.name)}"; outputs: ${known.join(', ')}`);
    return { name: o.name, binary: o.parameters?.binary_data === undefined ? binaryDefault : o.parameters.binary_data === true };
  });
  return { id: typeof header.id === 'string' ? header.id : undefined, batch, data, outputs };
}

function jsonData(data: unknown, count: number, datatype: string): Float32Array | Uint16Array {
  if (datatype !== 'FP32') throw new OipError(400, 'FP16 inputs must use the binary data extension');
  const flat = flatten(data);
  if (flat.length !== count || !flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new OipError(400, `input data must be ${count} finite numbers`);
  }
  return Float32Array.from(flat as number[]);
}

function binaryData(body: Uint8Array, headerLength: number, size: unknown, count: number, datatype: string): Float32Array | Uint16Array {
  const bytesPer = datatype === 'FP16' ? 2 : 4;
  if (size !== count * bytesPer || body.byteLength - headerLength !== size) {
    throw new OipError(400, `binary input must be ${count * bytesPer} bytes (binary_data_size and body length)`);
  }
  const copy = body.slice(headerLength); // aligned copy
  return bytesPer === 2 ? new Uint16Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** The infer response: JSON data, or a JSON header + binary tensors when any output asked for it. */
export function encodeInfer(m: Manifest, req: InferRequest, outputs: OutputTensor[]): { body: Uint8Array<ArrayBuffer>; headerLength: number | null } {
  const binary: Uint8Array[] = [];
  const header = {
    model_name: m.id,
    model_version: m.version,
    ...(req.id ? { id: req.id } : {}),
    outputs: req.outputs.map((want) => {
      const t = outputs.find((o) => o.name === want.name)!;
      if (!want.binary) return { name: t.name, datatype: 'FP32', shape: t.shape, data: Array.from(t.data) };
      binary.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      return { name: t.name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: t.data.byteLength } };
    }),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (!binary.length) return { body: json, headerLength: null };
  const body = new Uint8Array(json.byteLength + binary.reduce((n, b) => n + b.byteLength, 0));
  body.set(json, 0);
  let o = json.byteLength;
  for (const b of binary) { body.set(b, o); o += b.byteLength; }
  return { body, headerLength: json.byteLength };
}

/** GET /v2/models/{name}: the OIP model metadata. */
export function modelMetadata(m: Manifest) {
  const outputs = [{ name: m.outputs.logits, datatype: 'FP32', shape: [-1, m.labels.length] }];
  if (m.outputs.embedding) outputs.push({ name: m.outputs.embedding, datatype: 'FP32', shape: [-1, m.embedding_dim ?? -1] });
  return {
    name: m.id,
    versions: [m.version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: m.input.name, datatype: oipType(m.input.dtype), shape: inputShape(m) }],
    outputs,
  };
}
