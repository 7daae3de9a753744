// The 1/8-scale JPEG decoder (src/images/jpeg-dc.ts) against libjpeg's own 1/8 decode (PIL's
// draft mode) and against the full decode averaged over each 8x8 block, on encodings of real
// photos made by PIL and jpegtran (scripts/reference/jpeg_variants.py).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DcError, decodeJpegDc } from '../../src/images/jpeg-dc';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';
// @ts-ignore
import { bigImage } from '../../scripts/lib/big-image.mjs';

const PHOTOS = ['n01440764_tench.JPEG', 'n01860187_black_swan.JPEG', 'n02096051_Airedale.JPEG'];

function variants(photo: string) {
  const dir = mkdtempSync(join(tmpdir(), 'jpeg-dc-'));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(ROOT, 'scripts/reference/jpeg_variants.py'), join(SHARED_DIR, 'images', photo), dir]);
  const rgb = (f: string) => { const b = readFileSync(join(dir, f)); return { width: b.readUInt32LE(0), height: b.readUInt32LE(4), data: b.subarray(8) }; };
  const names = readdirSync(dir).filter((f) => f.endsWith('.jpg')).map((f) => f.slice(0, -4)).sort();
  return names.map((name) => ({
    name,
    jpeg: new Uint8Array(readFileSync(join(dir, `${name}.jpg`))),
    ...(name.startsWith('declined-') ? {} : { draft: rgb(`${name}.draft.rgb`), box: rgb(`${name}.box.rgb`) }),
  }));
}

function diff(rgba: Uint8Array, rgb: Uint8Array) {
  let max = 0, sum = 0;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    for (let k = 0; k < 3; k++) { const d = Math.abs(rgba[i + k]! - rgb[j + k]!); max = Math.max(max, d); sum += d; }
  }
  return { max, mean: sum / rgb.length };
}

describe('JPEG DC (1/8 scale) decoding', () => {
  for (const photo of PHOTOS) {
    it(`${photo}: every encoding matches libjpeg's 1/8 decode and the block means`, () => {
      const rows: string[] = [];
      for (const v of variants(photo)) {
        const ours = decodeJpegDc(v.jpeg);
        if (!v.draft) {
          expect(ours, v.name).toBeNull(); // arithmetic coding, CMYK: left to the full decoder
          continue;
        }
        expect(ours, v.name).not.toBeNull();
        expect([ours!.width, ours!.height], v.name).toEqual([v.draft.width, v.draft.height]);
        const toDraft = diff(ours!.data, v.draft.data), toBox = diff(ours!.data, v.box!.data);
        rows.push(`${v.name}: vs libjpeg 1/8 max ${toDraft.max} mean ${toDraft.mean.toFixed(3)}; vs block means max ${toBox.max} mean ${toBox.mean.toFixed(3)}`);
        // Luma-only and unsubsampled files: libjpeg's 1/8 decode is the same 1x1 IDCT, so only
        // colour-conversion rounding differs. Subsampled chroma: libjpeg runs a 2x2 IDCT on it
        // (AC terms this decoder does not read), so edges of colour differ by more.
        const subsampled = /420|422/.test(v.name);
        expect(toDraft.max, v.name).toBeLessThanOrEqual(subsampled ? 96 : 2);
        expect(toDraft.mean, v.name).toBeLessThanOrEqual(subsampled ? 2 : 0.5);
        expect(toBox.mean, v.name).toBeLessThanOrEqual(2);
      }
      console.log(`${photo}\n  ${rows.join('\n  ')}`);
    });
  }

  it('truncated data decodes what is there and leaves the rest mid-grey, quickly', () => {
    const [v] = variants(PHOTOS[0]!);
    const whole = decodeJpegDc(v!.jpeg)!;
    const t = performance.now();
    const cut = decodeJpegDc(v!.jpeg.subarray(0, Math.floor(v!.jpeg.length / 2)))!;
    expect(performance.now() - t).toBeLessThan(500);
    expect([cut.width, cut.height]).toEqual([whole.width, whole.height]);
    const first = cut.data.subarray(0, cut.width * 4 * 4), last = cut.data.subarray(cut.data.length - cut.width * 4);
    expect(first).toEqual(whole.data.subarray(0, cut.width * 4 * 4));
    expect(new Set(Array.from(last).filter((_, i) => i % 4 !== 3))).toEqual(new Set([128]));
  });

  it('structural garbage is a DcError, not a crash', () => {
    expect(() => decodeJpegDc(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toThrow(DcError);
    expect(() => decodeJpegDc(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toThrow(DcError);
    const [v] = variants(PHOTOS[0]!);
    const sos = v!.jpeg.findIndex((b, i) => b === 0xff && v!.jpeg[i + 1] === 0xda);
    expect(() => decodeJpegDc(v!.jpeg.subarray(0, sos))).toThrow(DcError); // tables and a frame, no scan
  });
});

describe('a phone-sized photo decoded at 1/8 for the model input', () => {
  it('preprocessed, it stays within a few levels of PIL full decode + resize', async () => {
    const { pilReference } = await import('../support/pil');
    const { resizedRgb } = await import('../../src/preprocess/tensor');
    const dir = mkdtempSync(join(tmpdir(), 'jpeg-dc-big-'));
    const big = join(dir, 'big.jpg');
    writeFileSync(big, bigImage(join(SHARED_DIR, 'images', PHOTOS[0]), 4032, 3024, 'JPEG'));
    const small = decodeJpegDc(new Uint8Array(readFileSync(big)))!;
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
    expect(() => decodeJpegDc(many)).toThrow(/more than 100 scans/);
  });
});
