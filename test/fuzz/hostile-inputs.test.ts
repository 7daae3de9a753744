// Property-based fuzzing (fast-check) of what strangers send: image bytes and requests.
// Header parsing runs in Node with many cases; the full path (decoders in WASM, routes) runs in
// the real Worker in workerd. Every case must end in a 200 or a 4xx problem, never a 5xx, a hang
// or a dead isolate. FUZZ_RUNS scales the case counts; FUZZ_SEED replays a run.
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader, sniffFormat } from '../../src/images/header';
import { derivedImages, photo } from '../support/images';
import { startWorker, type TestWorker } from '../support/worker';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const PROBLEM_TYPES = new Set(['invalid-request', 'unsupported-media-type', 'payload-too-large', 'image-too-large', 'too-many-images',
  'image-decode-failed', 'unknown-model', 'embedding-unsupported', 'url-forbidden', 'url-fetch-failed', 'not-found']);

const jpeg = photo('n01440764_tench.JPEG');
let seeds: { jpeg: Uint8Array; png: Uint8Array; webp: Uint8Array; lossyWebp: Uint8Array; gray: Uint8Array };
let w: TestWorker;

/** A PNG chunk with its CRC: lets the fuzzer lie in IHDR while keeping the file well-formed. */
function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c >>> 0;
}
/** PNG declaring width x height whose IDAT inflates to `inflated` zero bytes (a zip bomb when large). */
function lyingPng(width: number, height: number, inflated: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(inflated), { level: 9 })), chunk('IEND', new Uint8Array())]));
}
/** The JPEG with its SOF dimensions replaced. */
function jpegWithSize(width: number, height: number): Uint8Array {
  const b = jpeg.slice();
  for (let i = 2; i < b.length - 9; i++) {
    if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
      b[i + 5] = height >> 8; b[i + 6] = height & 255; b[i + 7] = width >> 8; b[i + 8] = width & 255;
      return b;
    }
  }
  throw new Error('no SOF marker');
}

beforeAll(async () => {
  const d = derivedImages();
  seeds = { jpeg, png: d.png, webp: d.webp, lossyWebp: d.lossyWebp, gray: d.gray };
  w = await startWorker({ models: ['convmixer-cifar10'] });
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays), scale FUZZ_RUNS=${SCALE}; seed corpus: ${Object.keys(seeds).join(', ')} + lying PNG/JPEG headers`);
});
afterAll(async () => { await w?.dispose(); });

// Arbitrary hostile image bytes: mutations of real files and hand-made liars.
const seedName = () => fc.constantFrom('jpeg', 'png', 'webp', 'lossyWebp', 'gray') as fc.Arbitrary<keyof typeof seeds>;
const hostileImage = () => fc.oneof(
  // truncated at any point
  fc.tuple(seedName(), fc.double({ min: 0, max: 1, noNaN: true })).map(([s, f]) => seeds[s].slice(0, Math.floor(seeds[s].length * f))),
  // bytes overwritten at random places (headers, entropy data, chunk lengths)
  fc.tuple(seedName(), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }))
    .map(([s, edits]) => { const b = seeds[s].slice(); for (const [f, v] of edits) b[Math.floor(f * (b.length - 1))] = v; return b; }),
  // the first bytes kept (a valid signature), the rest random
  fc.tuple(seedName(), fc.integer({ min: 2, max: 64 }), fc.uint8Array({ maxLength: 4096 })).map(([s, keep, rest]) => new Uint8Array([...seeds[s].slice(0, keep), ...rest])),
  // huge or zero declared dimensions
  fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([wd, h]) => jpegWithSize(wd, h)),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 1 << 22 }))
    .map(([wd, h, n]) => lyingPng(wd, h, n)),
  fc.uint8Array({ maxLength: 2048 }),
);

describe('header parsing (Node, no decoding)', () => {
  it('never throws, and whatever it reports is a sane size', () => {
    let cases = 0;
    fc.assert(fc.property(hostileImage(), (b) => {
      cases++;
      sniffFormat(b);
      const h = readHeader(b);
      if (h) expect(Number.isInteger(h.width) && Number.isInteger(h.height) && h.width >= 0 && h.height >= 0).toBe(true);
    }), { numRuns: 3000 * SCALE, seed: SEED });
    console.log(`header parsing: ${cases} cases`);
  });
});

async function expectHandled(res: Response) {
  if (res.status === 200) return;
  expect(res.status, await res.clone().text()).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const type = String(((await res.json()) as { type: string }).type).split('/').pop()!;
  expect(PROBLEM_TYPES.has(type), type).toBe(true);
}

const timed = async (p: Promise<Response>) => {
  const t = performance.now();
  const res = await p;
  expect(performance.now() - t, 'one request took over 15 s').toBeLessThan(15_000);
  return res;
};

describe('hostile images through the Worker (workerd, WASM decoders)', () => {
  it('raw bodies: 200 or a 4xx problem, never a 5xx or a hang', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(hostileImage(), fc.constantFrom('image/jpeg', 'image/png', 'image/webp'), async (b, type) => {
      const res = await timed(w.fetch('/v1/classify', { method: 'POST', body: b, headers: { 'content-type': type } }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await expectHandled(res);
    }), { numRuns: 150 * SCALE, seed: SEED });
    console.log(`raw image bodies: ${[...statuses].map(([s, n]) => `${s} x${n}`).join(', ')}`);
    expect((await w.fetch('/healthz')).status).toBe(200);
  });

  it('a 200 MP PNG declared in 100 bytes and a 4 MB-inflating IDAT: refused, fast', async () => {
    await expectHandled(await timed(w.fetch('/v1/classify', { method: 'POST', body: lyingPng(20000, 10000, 1024), headers: { 'content-type': 'image/png' } })));
    await expectHandled(await timed(w.fetch('/v1/classify', { method: 'POST', body: lyingPng(64, 64, 4 << 20), headers: { 'content-type': 'image/png' } })));
  });
});

describe('hostile requests through the Worker', () => {
  // Mostly types the API accepts, so bodies get past the content-type check and reach the parsers.
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'image/jpeg', 'image/png') },
    { weight: 2, arbitrary: fc.constantFrom('multipart/form-data', 'image/gif', 'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
  );
  const body = fc.oneof(
    fc.json().map((s) => new TextEncoder().encode(s)),
    fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify({ image: v, url: v, top_k: v, model: v }))),
    fc.string({ maxLength: 400 }).map((s) => new TextEncoder().encode(`{"image": "${s}"}`)),
    fc.integer({ min: 1, max: 5000 }).map((n) => new TextEncoder().encode('{"a":'.repeat(n))),
    fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(`--x\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n${s}\r\n--x--`)),
    fc.uint8Array({ maxLength: 2048 }),
  );
  const query = fc.dictionary(fc.constantFrom('model', 'top_k', 'threshold', 'normalize', 'encoding', 'fallback', 'logits'),
    fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('-1', '0', '1e309', 'NaN', '101', '0.5', 'true', '../../etc', '%00')));

  it('random content types, bodies and options on /v1/classify and /v1/embed: never a 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(fc.constantFrom('/v1/classify', '/v1/embed'), contentType, body, query, async (route, type, b, q) => {
      const qs = new URLSearchParams(q as Record<string, string>).toString();
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const res = await timed(w.fetch(`${route}?${qs}`, { method: 'POST', body: b, headers }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await expectHandled(res);
    }), { numRuns: 300 * SCALE, seed: SEED });
    console.log(`requests: ${[...statuses].map(([s, n]) => `${s} x${n}`).join(', ')}`);
    expect((await w.fetch('/healthz')).status).toBe(200);
  });
});
