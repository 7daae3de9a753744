// The PNG decoder (src/images/png.ts), at full size and box-reduced, against PIL's Image.reduce on the same
// files (scripts/reference/png_variants.py): every colour type and bit depth PIL writes, a 16-bit
// file through all five row filters, interlaced files, sizes that are not multiples of the factor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PngError, decodePng } from '../../src/images/png';
import { chunk, honestBombPng, withValidCrcs } from '../fuzz/hostile';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

function variants(factor: number) {
  const dir = mkdtempSync(join(tmpdir(), 'png-'));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(ROOT, 'scripts/reference/png_variants.py'), join(SHARED_DIR, 'images', 'n01440764_tench.JPEG'), String(factor), dir]);
  return readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((f) => {
    const ref = readFileSync(join(dir, f.replace(/\.png$/, '.reduced.rgb')));
    return { name: f, png: new Uint8Array(readFileSync(join(dir, f))), width: ref.readUInt32LE(0), height: ref.readUInt32LE(4), rgb: ref.subarray(8) };
  });
}

describe('PNG decoded box-reduced while it inflates', () => {
  for (const factor of [1, 3, 8]) {
    it(`factor ${factor}: matches PIL's decode + reduce for every colour type, depth, filter and Adam7`, async () => {
      const rows: string[] = [];
      for (const v of variants(factor)) {
        const ours = decodePng(v.png, factor);
        expect([ours.width, ours.height], v.name).toEqual([v.width, v.height]);
        let max = 0;
        for (let i = 0, j = 0; j < v.rgb.length; i += 4, j += 3) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(ours.data[i + c]! - v.rgb[j + c]!));
        rows.push(`${v.name} ${max}`);
        // PIL's reduce rounds in fixed point: at most one level apart; factor 1 is the plain decode.
        expect(max, v.name).toBeLessThanOrEqual(factor === 1 ? 0 : 1);
      }
      console.log(`factor ${factor}, max abs difference to PIL: ${rows.join(', ')}`);
    });
  }

  it('an honest bomb (6000x6000 in ~100 KB) reduces without ever holding the full image', async () => {
    const bomb = honestBombPng(6000, 6000);
    const img = decodePng(bomb, 12);
    expect([img.width, img.height]).toEqual([500, 500]);
  });

  it('broken files are PngErrors', async () => {
    const [v] = variants(2);
    const interlaced = v!.png.slice();
    interlaced[8 + 8 + 12] = 2; // IHDR interlace byte: no such method
    expect(() => decodePng(interlaced, 2)).toThrow('bad CRC in chunk IHDR');
    expect(() => decodePng(withValidCrcs(interlaced), 2)).toThrow('interlace method 2');
    expect(() => decodePng(v!.png.subarray(0, Math.floor(v!.png.length / 2)), 2)).toThrow(PngError);
    const corrupt = v!.png.slice();
    for (let i = 200; i < 260; i++) corrupt[i] = 0x55;
    expect(() => decodePng(corrupt, 2)).toThrow('bad CRC in chunk IDAT');
    expect(() => decodePng(withValidCrcs(corrupt), 2)).toThrow(PngError); // the inflater's turn
    expect(() => decodePng(v!.png.subarray(0, 40), 2)).toThrow(PngError);
  });

  it('checks the CRC of critical chunks only, as libpng does by default', async () => {
    const [v] = variants(1);
    const png = v!.png;
    // A tEXt chunk with a wrong CRC after IHDR (8 + 25 bytes): skipped unread, the image decodes.
    const text = chunk('tEXt', new TextEncoder().encode('Comment\0hello'));
    text[text.length - 1]! ^= 0xff;
    const withText = new Uint8Array([...png.subarray(0, 33), ...text, ...png.subarray(33)]);
    expect(decodePng(withText, 1).data).toEqual(decodePng(png, 1).data);
    // The same damage to IHDR's CRC is refused.
    const badIhdr = png.slice();
    badIhdr[32]! ^= 0xff;
    expect(() => decodePng(badIhdr, 1)).toThrow('bad CRC in chunk IHDR');
  });
});
