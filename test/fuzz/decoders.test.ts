// Fuzzing the image path in Node (fast-check): src/images/header.ts and src/images/decode.ts
// with the Worker's own decoders (mozjpeg and libwebp from @jsquash as WASM, compiled here:
// test/support/node-codecs.ts; PNG and the reduced JPEG path in JavaScript), fed thousands of
// malformed, truncated and hostile JPEG/PNG/WebP files made from real photos
// (test/fuzz/hostile.ts). Every input must decode to an image the size its header declares (or,
// on the reduced paths, that size reduced), or throw an ApiError of type image-decode-failed, image-too-large
// or unsupported-media-type: never another exception, never a hang (each case is timed).
//
// FUZZ_RUNS=<multiplier> scales the case counts (default 1: ~4,000 header + ~2,000 decode cases,
// well under a minute on two busy cores); FUZZ_SEED=<n> replays a run; FUZZ_CASE_MS bounds a case.
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/errors';
import { readHeader, sniffFormat } from '../../src/images/header';
import { decodeImage, reductionFactor, type DecodeLimits } from '../../src/images/decode';
import { SEED, SCALE, hostileImage, honestBombPng, lyingPng, runs, seedCorpus, type Corpus } from './hostile';

// decode.ts imports codecs.ts, whose .wasm imports only workerd's bundler understands.
vi.mock('../../src/images/codecs', () => import('../support/node-codecs'));

const ALLOWED = new Set(['image-decode-failed', 'image-too-large', 'unsupported-media-type']);
const CASE_MS = Number(process.env.FUZZ_CASE_MS ?? 5000);
/** wrangler.toml's MAX_IMAGE_PIXELS. */
const MAX_PIXELS = 40_000_000;

let corpus: Corpus;
beforeAll(() => {
  corpus = seedCorpus();
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), FUZZ_RUNS=${SCALE}; seed corpus: ${Object.entries(corpus).map(([n, b]) => `${n} (${b.length} B)`).join(', ')}`);
});

/** Runs one decode and classifies the outcome; anything but a decode or an allowed ApiError fails. */
async function outcome(bytes: Uint8Array, maxPixels: number, reduce?: DecodeLimits['reduce']): Promise<string> {
  const t = performance.now();
  let result: string | undefined;
  try {
    const img = await decodeImage(bytes, { maxPixels, reduce });
    const h = readHeader(bytes)!;
    // A decode is only a success if it is what the header promised (after EXIF orientation),
    // or that reduced by the factor the reduced path uses (it may decline a file: then full size).
    const swapped = h.orientation >= 5;
    const [w, hh] = swapped ? [h.height, h.width] : [h.width, h.height];
    const f = reductionFactor(h.format, h.width, h.height, reduce);
    const small = [Math.ceil(w / f), Math.ceil(hh / f)];
    if (f > 1 && img.width === small[0] && img.height === small[1] && (small[0] !== w || small[1] !== hh)) result = 'decoded-reduced';
    else expect([img.width, img.height]).toEqual([w, hh]);
    expect(img.data.length).toBe(img.width * img.height * 4);
    result ??= 'decoded';
  } catch (e) {
    if (!(e instanceof ApiError)) throw new Error(`not an ApiError: ${(e as Error)?.stack ?? String(e)}`);
    if (!ALLOWED.has(e.type)) throw new Error(`unexpected problem type ${e.type}: ${e.detail}`);
    result = e.type;
  }
  const ms = performance.now() - t;
  if (ms > CASE_MS) throw new Error(`one decode took ${ms.toFixed(0)} ms (bound ${CASE_MS} ms): ${bytes.length} bytes`);
  return result;
}

const tally = (m: Map<string, number>) => [...m].sort().map(([k, n]) => `${k} x${n}`).join(', ');

describe('header parsing (no decoding)', () => {
  it('never throws on hostile bytes, and reports only sane sizes', () => {
    let cases = 0;
    const kinds = new Map<string, number>();
    fc.assert(fc.property(hostileImage(corpus), ({ kind, bytes }) => {
      cases++;
      const f = sniffFormat(bytes);
      const h = readHeader(bytes);
      if (h) {
        expect(h.format).toBe(f);
        expect(Number.isInteger(h.width) && Number.isInteger(h.height) && h.width > 0 && h.height > 0).toBe(true);
        expect(h.orientation >= 1 && h.orientation <= 8).toBe(true);
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }), { numRuns: runs(4000), seed: SEED });
    console.log(`header parsing: ${cases} cases (${tally(kinds)})`);
    expect(cases).toBe(runs(4000));
  });
});

describe('decode path (header check + WASM decoders, as in the Worker)', () => {
  it('every hostile input decodes to its declared size or throws a typed ApiError, within the time bound', async () => {
    let cases = 0;
    let slowest = 0;
    const outcomes = new Map<string, number>();
    // mozjpeg warns on stderr about every corrupt file ("Corrupt JPEG data: ..."): counted, not printed.
    let warnings = 0;
    const quiet = () => { warnings++; };
    const spies = [vi.spyOn(console, 'warn').mockImplementation(quiet), vi.spyOn(console, 'error').mockImplementation(quiet)];
    try {
      await fc.assert(fc.asyncProperty(hostileImage(corpus), async ({ kind, bytes }) => {
        cases++;
        const t = performance.now();
        // A pixel budget of 4 MP keeps the liars that pass it cheap; the real default is tested below.
        const o = await outcome(bytes, 4_000_000);
        slowest = Math.max(slowest, performance.now() - t);
        const key = `${kind}:${o}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }), { numRuns: runs(2000), seed: SEED });
    } finally {
      for (const s of spies) s.mockRestore();
    }
    console.log(`decode path: ${cases} cases, slowest ${slowest.toFixed(0)} ms, ${warnings} decoder warnings\n  ${tally(outcomes).replace(/, /g, '\n  ')}`);
    expect(cases).toBe(runs(2000));
  });

  it('the reduced paths (src/images/jpeg-reduced.ts, png.ts): the same contract on the same hostile inputs', async () => {
    let cases = 0;
    const outcomes = new Map<string, number>();
    const reducedFormats = new Set<string>();
    const spies = [vi.spyOn(console, 'warn').mockImplementation(() => {}), vi.spyOn(console, 'error').mockImplementation(() => {})];
    try {
      await fc.assert(fc.asyncProperty(hostileImage(corpus), async ({ kind, bytes }) => {
        cases++;
        // Every JPEG and PNG takes a reduced path (the Worker's threshold is 4 MP; the corpus is
        // small); a JPEG at each of its scales, by asking for a target each scale just reaches.
        const h = readHeader(bytes);
        const short = h ? Math.min(h.width, h.height) : 1;
        const targets = h?.format === 'jpeg' ? [8, 4, 2].map((d) => Math.ceil(short / d)) : [1];
        for (const minShortSide of targets) {
          const o = await outcome(bytes, 4_000_000, { abovePixels: 1, minShortSide });
          if (o === 'decoded-reduced') reducedFormats.add(`${sniffFormat(bytes)} 1/${reductionFactor(h!.format, h!.width, h!.height, { abovePixels: 1, minShortSide })}`);
          const key = `${kind}:${o}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      }), { numRuns: runs(1000), seed: SEED + 1 });
    } finally {
      for (const s of spies) s.mockRestore();
    }
    console.log(`reduced paths: ${cases} cases\n  ${tally(outcomes).replace(/, /g, '\n  ')}`);
    expect([...reducedFormats].some((f) => f.startsWith('png')), 'png').toBe(true); // both reduced decoders ran, the JPEG one at every scale
    for (const d of [8, 4, 2]) expect(reducedFormats.has(`jpeg 1/${d}`), `jpeg 1/${d}`).toBe(true);
  });

  it('the unmodified corpus decodes', async () => {
    for (const [name, b] of Object.entries(corpus)) expect(await outcome(b, MAX_PIXELS), name).toBe('decoded');
  });

  it('zip-bomb-like PNGs: huge declared sizes are refused from the header; a 4 MB inflate behind a 64x64 header fails cleanly', async () => {
    const refused = lyingPng(100_000, 100_000, 1 << 20); // 10 GP declared in ~1 KB
    expect(refused.length).toBeLessThan(2000);
    expect(await outcome(refused, MAX_PIXELS)).toBe('image-too-large');
    expect(await outcome(lyingPng(0xffffffff, 0xffffffff, 16), MAX_PIXELS)).toBe('image-too-large');
    expect(await outcome(lyingPng(64, 64, 4 << 20), MAX_PIXELS)).toMatch(/^(decoded|image-decode-failed)$/);
    // A lying IHDR inside the budget whose IDAT is a few bytes: no image, no crash.
    expect(await outcome(lyingPng(6000, 6000, 10), MAX_PIXELS)).toBe('image-decode-failed');
  });

  it('an honest bomb: a ~100 KB PNG of 6000x6000 (36 MP, under the 40 MP default) decodes, within the time bound', async () => {
    // This is the worst case the pixel budget admits: 144 MB of RGBA from a tiny file. It decodes
    // in Node; in a 128 MB isolate it would not (SECURITY.md, "Not defended yet").
    const bomb = honestBombPng(6000, 6000);
    expect(bomb.length).toBeLessThan(200_000);
    expect(await outcome(bomb, MAX_PIXELS)).toBe('decoded');
    expect(await outcome(honestBombPng(6000, 6000), 16_000_000)).toBe('image-too-large');
  });

  it('WebP and JPEG headers declaring huge canvases are refused before decoding', async () => {
    const { vp8xWebp, jpegWithSize } = await import('./hostile');
    expect(await outcome(vp8xWebp(1 << 24, 1 << 24, new Uint8Array(64)), MAX_PIXELS)).toBe('image-too-large');
    const jpeg = Object.values(corpus).find((b) => b[0] === 0xff)!;
    expect(await outcome(jpegWithSize(jpeg, 65535, 65535), MAX_PIXELS)).toBe('image-too-large');
    expect(await outcome(jpegWithSize(jpeg, 0, 0), MAX_PIXELS)).toBe('image-decode-failed');
  });
});
