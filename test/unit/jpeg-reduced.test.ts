// The reduced JPEG decoder (src/images/jpeg-reduced.ts) at 1/8, 1/4 and 1/2 against libjpeg's
// own scaled decode (PIL's draft mode) and against the full decode averaged over each block, on
// encodings of real photos made by PIL and jpegtran (scripts/reference/jpeg_variants.py).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JpegReduceError, decodeJpegReduced } from '../../src/images/jpeg-reduced';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';
// @ts-ignore
import { bigImage } from '../../scripts/lib/big-image.mjs';

const PHOTOS = ['n01440764_tench.JPEG', 'n01860187_black_swan.JPEG', 'n02096051_Airedale.JPEG'];
const DENOMS = [8, 4, 2] as const;

function variants(photo: string) {
  const dir = mkdtempSync(join(tmpdir(), 'jpeg-reduced-'));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(ROOT, 'scripts/reference/jpeg_variants.py'), join(SHARED_DIR, 'images', photo), dir]);
  const rgb = (f: string) => { const b = readFileSync(join(dir, f)); return { width: b.readUInt32LE(0), height: b.readUInt32LE(4), data: b.subarray(8) }; };
  const names = readdirSync(dir).filter((f) => f.endsWith('.jpg')).map((f) => f.slice(0, -4)).sort();
  return names.map((name) => ({
    name,
    jpeg: new Uint8Array(readFileSync(join(dir, `${name}.jpg`))),
    refs: name.startsWith('declined-') ? null : Object.fromEntries(DENOMS.map((d) => [d, { draft: rgb(`${name}.draft${d}.rgb`), box: rgb(`${name}.box${d}.rgb`) }])),
  }));
}

function diff(rgba: Uint8Array, rgb: Uint8Array) {
  let max = 0, sum = 0;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    for (let k = 0; k < 3; k++) { const d = Math.abs(rgba[i + k]! - rgb[j + k]!); max = Math.max(max, d); sum += d; }
  }
  return { max, mean: sum / rgb.length };
}

describe('JPEG decoded at 1/8, 1/4 and 1/2 from its coefficients', () => {
  for (const photo of PHOTOS) {
    it(`${photo}: every encoding, every scale, against libjpeg's scaled decode and the block means`, () => {
      const rows: string[] = [];
      for (const v of variants(photo)) {
        for (const denom of DENOMS) {
          const ours = decodeJpegReduced(v.jpeg, denom);
          // Arithmetic coding and CMYK are left to the full decoder.
          if (!v.refs) {
            expect(ours, `${v.name} 1/${denom}`).toBeNull();
            continue;
          }
          const { draft, box } = v.refs[denom]!;
          expect(ours, `${v.name} 1/${denom}`).not.toBeNull();
          expect([ours!.width, ours!.height], `${v.name} 1/${denom}`).toEqual([draft.width, draft.height]);
          const toDraft = diff(ours!.data, draft.data), toBox = diff(ours!.data, box.data);
          rows.push(`${v.name} 1/${denom}: vs libjpeg max ${toDraft.max} mean ${toDraft.mean.toFixed(3)}; vs block means max ${toBox.max} mean ${toBox.mean.toFixed(3)}`);
          // Measured bounds (the log above): at 1/8 grey and 4:4:4 are libjpeg's own 1x1 IDCT; at 1/4
          // and 1/2, and for 4:2:0 chroma, this takes exact means where libjpeg samples a reduced
          // IDCT (a level or two apart). libjpeg replicates 4:2:2 chroma at 1/8 and 1/4 where this
          // averages, so there the block means are the closer reference. Progressive files are held
          // to the same bounds, except 4:2:0 at 1/8, which replicates its chroma (no AC scans
          // read): mean ~1, max ~70 at hard colour edges.
          const id = `${v.name} 1/${denom}`;
          if (/progressive-420/.test(v.name) && denom === 8) {
            expect(toDraft.mean, id).toBeLessThanOrEqual(2);
            expect(toDraft.max, id).toBeLessThanOrEqual(96);
          } else if (/422/.test(v.name)) {
            expect(toDraft.mean, id).toBeLessThanOrEqual(1);
            expect(toBox.mean, id).toBeLessThanOrEqual(0.5);
          } else {
            expect(toDraft.mean, id).toBeLessThanOrEqual(denom === 8 && /gray|444/.test(v.name) ? 0.001 : 0.05);
            expect(toDraft.max, id).toBeLessThanOrEqual(3);
          }
          expect(toBox.mean, id).toBeLessThanOrEqual(2);
        }
      }
      console.log(`${photo}\n  ${rows.join('\n  ')}`);
    });
  }

  it('a progressive file decodes to exactly the pixels of the baseline file it was transcoded from, at 1/4 and 1/2', () => {
    const all = variants(PHOTOS[0]!);
    const baseline = all.find((v) => v.name === '420')!, progressive = all.find((v) => v.name === 'restarts-progressive-420')!;
    for (const denom of [4, 2] as const) {
      // jpegtran -progressive -restart 1: the same quantised coefficients, in ten or so scans.
      expect(decodeJpegReduced(progressive.jpeg, denom)!.data, `1/${denom}`).toEqual(decodeJpegReduced(baseline.jpeg, denom)!.data);
    }
  });

  it('progressive coefficients beyond their budget: declined (null), for the full decoder and its own budget', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpeg-reduced-prog-'));
    const base = join(dir, 'big.jpg');
    writeFileSync(base, bigImage(join(SHARED_DIR, 'images', PHOTOS[0]), 5000, 4000, 'JPEG'));
    const prog = new Uint8Array(execFileSync('jpegtran', ['-progressive', base], { maxBuffer: 64 << 20 }));
    // 20 MP 4:2:0: 60 MB of coefficients below 1/8 (over the 48 MiB budget); 1/8 needs none.
    expect(decodeJpegReduced(prog, 4)).toBeNull();
    const eighth = decodeJpegReduced(prog, 8)!;
    expect([eighth.width, eighth.height]).toEqual([625, 500]);
  });

  it('truncated data decodes what is there and leaves the rest mid-grey, quickly', () => {
    const [v] = variants(PHOTOS[0]!);
    for (const denom of DENOMS) {
      const whole = decodeJpegReduced(v!.jpeg, denom)!;
      const t = performance.now();
      const cut = decodeJpegReduced(v!.jpeg.subarray(0, Math.floor(v!.jpeg.length / 2)), denom)!;
      expect(performance.now() - t).toBeLessThan(500);
      expect([cut.width, cut.height]).toEqual([whole.width, whole.height]);
      const first = cut.data.subarray(0, cut.width * 4 * 2), last = cut.data.subarray(cut.data.length - cut.width * 4);
      expect(first).toEqual(whole.data.subarray(0, cut.width * 4 * 2));
      expect(new Set(Array.from(last).filter((_, i) => i % 4 !== 3))).toEqual(new Set([128]));
    }
  });

  it('structural garbage is a JpegReduceError, not a crash', () => {
    expect(() => decodeJpegReduced(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 8)).toThrow(JpegReduceError);
    expect(() => decodeJpegReduced(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 8)).toThrow(JpegReduceError);
    const [v] = variants(PHOTOS[0]!);
    const sos = v!.jpeg.findIndex((b, i) => b === 0xff && v!.jpeg[i + 1] === 0xda);
    expect(() => decodeJpegReduced(v!.jpeg.subarray(0, sos), 4)).toThrow(JpegReduceError); // tables and a frame, no scan
  });
});

describe('a phone-sized photo decoded reduced for the model input', () => {
  it('preprocessed, it stays within a few levels of PIL full decode + resize', async () => {
    const { pilReference } = await import('../support/pil');
    const { resizedRgb } = await import('../../src/preprocess/tensor');
    const dir = mkdtempSync(join(tmpdir(), 'jpeg-reduced-big-'));
    const big = join(dir, 'big.jpg');
    writeFileSync(big, bigImage(join(SHARED_DIR, 'images', PHOTOS[0]), 4032, 3024, 'JPEG'));
    const small = decodeJpegReduced(new Uint8Array(readFileSync(big)), 8)!;
    expect([small.width, small.height]).toEqual([504, 378]);
    const rows: string[] = [];
    for (const [size, crop, interp] of [[224, 0.875, 'bicubic'], [32, 1, 'bilinear']] as const) {
      const ref = pilReference([big], size, crop, interp)[0]!;
      const ours = resizedRgb(small, { size, resize: 'shortest_edge', crop_pct: crop, interpolation: interp, channel_order: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
      let max = 0, sum = 0;
      for (let i = 0; i < ours.length; i++) { const d = Math.abs(ours[i]! - ref.crop[i]!); max = Math.max(max, d); sum += d; }
      rows.push(`${size}px ${interp}: max ${max}, mean ${(sum / ours.length).toFixed(3)} levels`);
      expect(sum / ours.length).toBeLessThan(size === 32 ? 1 : 2.5);
      expect(max).toBeLessThanOrEqual(size === 32 ? 12 : 48);
    }
    console.log(`4032x3024 JPEG, 1/8 decode + resize vs PIL full decode + resize: ${rows.join('; ')}`);
  });
});

describe('hostile structure', () => {
  it('a JPEG of hundreds of scans is refused instead of walking the frame hundreds of times', () => {
    const [v] = variants(PHOTOS[0]!);
    const d = v!.jpeg;
    const sos = d.findIndex((b, i) => b === 0xff && d[i + 1] === 0xda);
    const len = (d[sos + 2]! << 8) | d[sos + 3]!;
    const header = d.subarray(sos, sos + 2 + len); // one scan header, no entropy data
    const parts = [d.subarray(0, sos), ...Array.from({ length: 150 }, () => header), new Uint8Array([0xff, 0xd9])];
    const many = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { many.set(p, o); o += p.length; }
    expect(() => decodeJpegReduced(many, 8)).toThrow(/more than 100 scans/);
  });
});
