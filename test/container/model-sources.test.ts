// Where the container's models come from: SigV4 against AWS's published examples, then the
// container as a real process loading from an S3-compatible bucket (R2's S3 API in production)
// served on loopback by a small fake that checks every signature; and PRELOAD_MODELS readiness.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SHA256, canonicalRequest, sha256Hex, signV4 } from '../../container/src/sigv4';
import { heavyCopy, startContainer, type ContainerProcess } from '../support/container';

const AWS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const NOW = new Date(Date.UTC(2013, 4, 24));
const sigOf = (h: Record<string, string>) => /Signature=([0-9a-f]{64})$/.exec(h.authorization!)?.[1];

describe('SigV4 (AWS S3 documentation examples)', () => {
  const sign = (url: string, headers: Record<string, string> = {}) =>
    signV4({ method: 'GET', url: new URL(url), headers, payloadSha256: EMPTY_SHA256, region: 'us-east-1', service: 's3', credentials: AWS, now: NOW });

  it('GET Object with a Range header', () => {
    const h = sign('https://examplebucket.s3.amazonaws.com/test.txt', { Range: 'bytes=0-9' });
    expect(h.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
      + 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    expect(h['x-amz-date']).toBe('20130524T000000Z');
    expect(h).not.toHaveProperty('host'); // fetch sets it from the URL
  });

  it('GET Bucket lifecycle and list objects (query parameters sorted)', () => {
    expect(sigOf(sign('https://examplebucket.s3.amazonaws.com/?lifecycle'))).toBe('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
    expect(sigOf(sign('https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2'))).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });
});

// ----------------------------------------------------------------------------- a fake S3 bucket
const BUCKET = 'edge-vit-models';
const KEYS = { accessKeyId: 'test-key', secretAccessKey: 'test-secret' };

/** Verifies a request's SigV4 Authorization header the way S3 does (with the known secret). */
function validSignature(req: IncomingMessage, url: URL): boolean {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
  if (!m || m[1] !== KEYS.accessKeyId) return false;
  const [, , day, region, signedNames, signature] = m;
  const names = signedNames!.split(';');
  if (!['host', 'x-amz-date', 'x-amz-content-sha256'].every((n) => names.includes(n))) return false;
  const headers = Object.fromEntries(names.map((n) => [n, String(req.headers[n] ?? '').trim()]));
  const amzDate = headers['x-amz-date']!;
  if (amzDate.slice(0, 8) !== day || Math.abs(Date.now() - Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))) > 15 * 60_000) return false;
  const { text } = canonicalRequest(req.method!, url, headers, headers['x-amz-content-sha256']!);
  const scope = `${day}/${region}/s3/aws4_request`;
  const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${KEYS.secretAccessKey}`, day!), region!), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(text)].join('\n')).digest('hex') === signature;
}

/** Objects under `root` served as bucket keys `models/<id>/<file>`; ListObjectsV2 one prefix per page. */
function fakeS3(root: string) {
  const log: Array<{ method: string; path: string; status: number }> = [];
  const state = { failing: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const send = (status: number, body: string | Buffer, type = 'application/xml') => {
      log.push({ method: req.method!, path: url.pathname + url.search, status });
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (!validSignature(req, url)) return send(403, '<Error><Code>SignatureDoesNotMatch</Code></Error>');
    const [, bucket, ...rest] = url.pathname.split('/').map(decodeURIComponent);
    if (bucket !== BUCKET) return send(404, '<Error><Code>NoSuchBucket</Code></Error>');
    const key = rest.join('/');
    if (key === '' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const ids = readdirSync(root).sort();
      const start = Number(url.searchParams.get('continuation-token') ?? 0);
      const more = start + 1 < ids.length;
      return send(200, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><Prefix>${prefix}</Prefix>`
        + (ids[start] ? `<CommonPrefixes><Prefix>${prefix}${ids[start]}/</Prefix></CommonPrefixes>` : '')
        + `<IsTruncated>${more}</IsTruncated>${more ? `<NextContinuationToken>${start + 1}</NextContinuationToken>` : ''}</ListBucketResult>`);
    }
    if (state.failing.has(key)) return send(500, '<Error><Code>InternalError</Code></Error>');
    const m = /^models\/([^/]+)\/([^/]+)$/.exec(key);
    try {
      if (m) return send(200, readFileSync(join(root, m[1]!, m[2]!)), 'application/octet-stream');
    } catch { /* fall through */ }
    return send(404, '<Error><Code>NoSuchKey</Code></Error>');
  });
  return { server, log, state };
}

const { dir, heavyId } = heavyCopy('convmixer-cifar10');
// A second copy whose manifest does not match its weights.
const tampered = `${heavyId}-tampered`;
mkdirSync(join(dir, tampered));
writeFileSync(join(dir, tampered, 'model.onnx'), readFileSync(join(dir, heavyId, 'model.onnx')));
writeFileSync(join(dir, tampered, 'manifest.json'), JSON.stringify({
  ...JSON.parse(readFileSync(join(dir, heavyId, 'manifest.json'), 'utf8')),
  id: tampered, onnx: { key: `models/${tampered}/model.onnx`, sha256: '0'.repeat(64), bytes: 1, precision: 'fp32' },
}));

const s3 = fakeS3(dir);
let endpoint = '';
let c: ContainerProcess;
const s3Env = (over: Record<string, string> = {}) => ({
  MODELS_DIRS: '', MODELS_S3_ENDPOINT: endpoint, MODELS_S3_BUCKET: BUCKET,
  MODELS_S3_ACCESS_KEY_ID: KEYS.accessKeyId, MODELS_S3_SECRET_ACCESS_KEY: KEYS.secretAccessKey, ...over,
});

beforeAll(async () => {
  await new Promise<void>((r) => s3.server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(s3.server.address() as AddressInfo).port}`;
  c = await startContainer(s3Env());
});
afterAll(async () => {
  await c?.stop();
  await new Promise((r) => s3.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const infer = (id: string) => fetch(`${c.url}/v2/models/${id}/infer`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, 32, 32], data: Array.from({ length: 3072 }, (_, i) => Math.cos(i)) }], outputs: [{ name: 'logits' }] }),
});

describe('models from an S3-compatible bucket (R2 S3 API)', () => {
  it('lists the bucket at start (ListObjectsV2, following continuation tokens)', () => {
    const listening = JSON.parse(c.log.join('').split('\n').find((l) => l.includes('"listening"'))!);
    expect(listening.sources).toEqual([`s3:${endpoint}/${BUCKET}/models/`]);
    expect(listening.models).toEqual([heavyId, tampered].sort());
    expect(s3.log.filter((r) => r.path.includes('list-type=2')).map((r) => r.status)).toEqual([200, 200]);
  });

  it('metadata and infer from the bucket; every request was signed and accepted', async () => {
    const meta = await fetch(`${c.url}/v2/models/${heavyId}`);
    expect(meta.status).toBe(200);
    expect((await meta.json()).inputs).toEqual([{ name: 'pixel_values', datatype: 'FP32', shape: [-1, 3, 32, 32] }]);
    const res = await infer(heavyId);
    expect(res.status).toBe(200);
    expect((await res.json()).outputs[0]).toMatchObject({ name: 'logits', shape: [1, 10] });
    expect(s3.log.map((r) => r.path)).toContain(`/${BUCKET}/models/${heavyId}/model.onnx`);
    expect(s3.log.every((r) => r.status !== 403)).toBe(true);
  });

  it('weights that do not match the manifest sha256 are refused with 503, never served', async () => {
    const res = await infer(tampered);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatch(/do not match the manifest's sha256/);
  });

  it('a model missing from the bucket is 404; a failing bucket is 503', async () => {
    expect((await fetch(`${c.url}/v2/models/not-there`)).status).toBe(404);
    s3.state.failing.add('models/later-model/manifest.json');
    const res = await fetch(`${c.url}/v2/models/later-model`);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatch(/model repository is unavailable/);
  });

  it('wrong credentials: the bucket refuses (403), the container reports 503 and names no secret', async () => {
    const bad = await startContainer(s3Env({ MODELS_S3_SECRET_ACCESS_KEY: 'wrong' }));
    try {
      expect(bad.log.join('')).toMatch(/model source could not be listed.*HTTP 403/);
      const res = await fetch(`${bad.url}/v2/models/${heavyId}`);
      expect(res.status).toBe(503);
      expect(JSON.stringify(await res.json())).not.toMatch(/wrong|test-key/);
    } finally {
      await bad.stop();
    }
  });
});

describe('PRELOAD_MODELS and readiness', () => {
  const waitReady = async (url: string) => {
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${url}/v2/health/ready`);
      if (r.status === 200) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    return fetch(`${url}/v2/health/ready`);
  };

  it('ready (200) once the preloaded models are verified and loaded', async () => {
    const p = await startContainer({ MODELS_DIRS: dir, PRELOAD_MODELS: heavyId });
    try {
      const r = await waitReady(p.url);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ ready: true });
      expect(p.log.join('')).toMatch(/"msg":"model loaded","model":"convmixer-cifar10-heavy"/);
    } finally {
      await p.stop();
    }
  });

  it('not ready (400, {"ready": false}) when a preloaded model fails to verify; still live', async () => {
    const p = await startContainer({ MODELS_DIRS: dir, PRELOAD_MODELS: `${heavyId},${tampered}` });
    try {
      for (let i = 0; i < 50 && !p.log.join('').includes('preload failed'); i++) await new Promise((r) => setTimeout(r, 100));
      const r = await fetch(`${p.url}/v2/health/ready`);
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ ready: false });
      expect(await (await fetch(`${p.url}/v2/health/live`)).json()).toEqual({ live: true });
    } finally {
      await p.stop();
    }
  });
});
