/**
 * The PNG decoder: inflated by fflate (JavaScript zlib) a slice at a time, unfiltered a row at
 * a time, optionally box-reduced by an integer factor while it inflates (PIL's
 * Image.reduce), so that a reduced decode never holds the full-size image.
 *
 * Why not a WASM decoder: the one we used (Rust png via wasm-bindgen) is a module-level
 * singleton that cannot be re-instantiated, so its memory kept its high-water mark for the
 * isolate's life, and one hostile file could trap it and leave it failing every later PNG
 * ("memory access out of bounds", found by the decoder fuzzer). Here every decode is fresh
 * JavaScript memory. And a 100 KB PNG may honestly declare 6000x6000 pixels (144 MB of RGBA in
 * a 128 MB isolate): reduced, it needs two rows and the reduced image.
 *
 * Output is RGBA with alpha 255: alpha is dropped, as PIL's convert("RGB") and the rest of the
 * pipeline do; 16-bit samples keep their high byte; grey and palette images are expanded.
 * Interlaced (Adam7) files are handled. Errors (bad chunks, a bad CRC in a critical chunk, a
 * corrupt or short zlib stream) are PngError.
 */
import { Unzlib } from 'fflate';
import { crc32 } from './crc32';
import type { RgbaImage } from './types';

export class PngError extends Error {}

interface Ihdr { width: number; height: number; depth: number; colour: number; interlace: number }
/** One sub-image: pixels (x0 + i*dx, y0 + j*dy). A plain PNG is one pass of (0, 0, 1, 1). */
interface Pass { x0: number; y0: number; dx: number; dy: number; w: number; h: number }

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

const u32 = (d: Uint8Array, i: number) => ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;

function readChunks(d: Uint8Array): { ihdr: Ihdr; palette: Uint8Array | null; idat: Uint8Array[] } {
  let ihdr: Ihdr | null = null;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 8 <= d.length;) {
    const len = u32(d, p);
    const type = String.fromCharCode(d[p + 4]!, d[p + 5]!, d[p + 6]!, d[p + 7]!);
    const data = p + 8;
    if (data + len > d.length) throw new PngError(`chunk ${type} runs past the end of the file`);
    const body = d.subarray(data, data + len);
    // Critical chunks (upper-case first letter) must carry a correct CRC, as libpng requires by
    // default; ancillary ones are skipped unread, so their CRCs do not matter here.
    if (!(d[p + 4]! & 0x20)) {
      if (data + len + 4 > d.length) throw new PngError(`chunk ${type} lacks its CRC (truncated file)`);
      if (crc32(d.subarray(p + 4, data + len)) !== u32(d, data + len)) throw new PngError(`bad CRC in chunk ${type}`);
    }
    if (type === 'IHDR') {
      if (len < 13) throw new PngError('short IHDR');
      ihdr = { width: u32(body, 0), height: u32(body, 4), depth: body[8]!, colour: body[9]!, interlace: body[12]! };
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    p = data + len + 4; // + CRC
  }
  if (!ihdr) throw new PngError('no IHDR');
  if (ihdr.width === 0 || ihdr.height === 0) throw new PngError('zero image size');
  if (!DEPTHS[ihdr.colour]?.includes(ihdr.depth)) throw new PngError(`bit depth ${ihdr.depth} with colour type ${ihdr.colour}`);
  if (ihdr.interlace > 1) throw new PngError(`interlace method ${ihdr.interlace}`);
  if (ihdr.colour === 3 && !palette) throw new PngError('a palette image without PLTE');
  if (!idat.length) throw new PngError('no IDAT');
  return { ihdr, palette, idat };
}

function passes(h: Ihdr): Pass[] {
  const all = h.interlace ? ADAM7 : [[0, 0, 1, 1] as const];
  return all.map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, w: Math.ceil((h.width - x0) / dx), h: Math.ceil((h.height - y0) / dy) }))
    .filter((p) => p.w > 0 && p.h > 0);
}

/** Undoes one row's filter in place (`prev` is the unfiltered row above, zeros for the first). */
function unfilter(type: number, row: Uint8Array, prev: Uint8Array, bpp: number, n: number): void {
  switch (type) {
    case 0: return;
    case 1: for (let i = bpp; i < n; i++) row[i] = (row[i]! + row[i - bpp]!) & 255; return;
    case 2: for (let i = 0; i < n; i++) row[i] = (row[i]! + prev[i]!) & 255; return;
    case 3:
      for (let i = 0; i < bpp; i++) row[i] = (row[i]! + (prev[i]! >> 1)) & 255;
      for (let i = bpp; i < n; i++) row[i] = (row[i]! + ((row[i - bpp]! + prev[i]!) >> 1)) & 255;
      return;
    case 4:
      // Paeth. Left of the first pixel a = c = 0, so the predictor is b there.
      for (let i = 0; i < bpp; i++) row[i] = (row[i]! + prev[i]!) & 255;
      for (let i = bpp; i < n; i++) {
        const a = row[i - bpp]!, b = prev[i]!, c = prev[i - bpp]!;
        // |p - a|, |p - b|, |p - c| for p = a + b - c, without forming p; then the choice made
        // with sign masks: photos make this branch unpredictable, and a mispredict per byte
        // cost more than the whole arithmetic (13 -> 9 ms for a 500x375 RGB PNG in Node).
        const da = b - c, db = a - c, dc = da + db;
        const pa = (da ^ (da >> 31)) - (da >> 31), pb = (db ^ (db >> 31)) - (db >> 31), pc = (dc ^ (dc >> 31)) - (dc >> 31);
        const notA = ((pb - pa) | (pc - pa)) >> 31; // -1 unless pa <= pb and pa <= pc
        const bOrC = b ^ ((b ^ c) & ((pc - pb) >> 31)); // c where pc < pb
        row[i] = (row[i]! + (a ^ ((a ^ bOrC) & notA))) & 255;
      }
      return;
    default: throw new PngError(`unknown filter type ${type}`);
  }
}

/** One unfiltered row of `w` pixels -> 8-bit RGB samples in `out` (`pal`: 256 RGB entries). */
function toRgb(h: Ihdr, pal: Uint8Array, row: Uint8Array, w: number, out: Uint8Array): void {
  const ch = CHANNELS[h.colour]!;
  if (h.depth < 8) {
    const per = 8 / h.depth, mask = (1 << h.depth) - 1, scale = 255 / mask;
    for (let x = 0; x < w; x++) {
      const v = (row[(x / per) | 0]! >> (8 - h.depth * ((x % per) + 1))) & mask;
      if (h.colour === 3) { out[x * 3] = pal[v * 3]!; out[x * 3 + 1] = pal[v * 3 + 1]!; out[x * 3 + 2] = pal[v * 3 + 2]!; }
      else out[x * 3] = out[x * 3 + 1] = out[x * 3 + 2] = Math.round(v * scale);
    }
    return;
  }
  const bytes = h.depth / 8, stride = ch * bytes;
  if (h.colour === 2 && bytes === 1) { out.set(row.subarray(0, w * 3)); return; }
  if (h.colour === 3) {
    for (let x = 0; x < w; x++) { const j = row[x]! * 3; out[x * 3] = pal[j]!; out[x * 3 + 1] = pal[j + 1]!; out[x * 3 + 2] = pal[j + 2]!; }
    return;
  }
  if (ch <= 2) { // grey (+ alpha)
    for (let x = 0, i = 0; x < w; x++, i += stride) out[x * 3] = out[x * 3 + 1] = out[x * 3 + 2] = row[i]!;
    return;
  }
  for (let x = 0, i = 0; x < w; x++, i += stride) { out[x * 3] = row[i]!; out[x * 3 + 1] = row[i + bytes]!; out[x * 3 + 2] = row[i + 2 * bytes]!; }
}

/** Where decoded pixels go: straight into RGBA (factor 1), or summed into factor x factor boxes. */
function sink(width: number, height: number, factor: number) {
  const ow = Math.ceil(width / factor), oh = Math.ceil(height / factor);
  const out = new Uint8Array(ow * oh * 4);
  if (factor === 1) {
    return {
      row(p: Pass, j: number, rgb: Uint8Array) {
        const step = p.dx * 4;
        for (let i = 0, o = ((p.y0 + j * p.dy) * width + p.x0) * 4, k = 0; i < p.w; i++, o += step, k += 3) {
          out[o] = rgb[k]!; out[o + 1] = rgb[k + 1]!; out[o + 2] = rgb[k + 2]!; out[o + 3] = 255;
        }
      },
      image: (): RgbaImage => ({ width: ow, height: oh, data: out }),
    };
  }
  const sums = new Uint32Array(ow * oh * 3);
  return {
    row(p: Pass, j: number, rgb: Uint8Array) {
      const base = (((p.y0 + j * p.dy) / factor) | 0) * ow;
      for (let i = 0; i < p.w; i++) {
        const o = (base + (((p.x0 + i * p.dx) / factor) | 0)) * 3;
        sums[o] = sums[o]! + rgb[i * 3]!; sums[o + 1] = sums[o + 1]! + rgb[i * 3 + 1]!; sums[o + 2] = sums[o + 2]! + rgb[i * 3 + 2]!;
      }
    },
    image(): RgbaImage {
      for (let oy = 0; oy < oh; oy++) {
        const rows = Math.min(factor, height - oy * factor);
        for (let ox = 0; ox < ow; ox++) {
          const n = rows * Math.min(factor, width - ox * factor), o = oy * ow + ox;
          for (let c = 0; c < 3; c++) out[o * 4 + c] = Math.floor((sums[o * 3 + c]! + (n >> 1)) / n);
          out[o * 4 + 3] = 255;
        }
      }
      return { width: ow, height: oh, data: out };
    },
  };
}

/**
 * The zlib stream of the IDAT chunks, inflated by fflate a slice at a time, each slice's output
 * handed to `take` before the next slice is inflated; `take` returns false once it needs no more,
 * so the rest (a bomb's tail) is never inflated. A slice of a highly compressible image can
 * inflate a thousandfold, so the slice size bounds what is held at a time. The runtime's native
 * DecompressionStream is faster but queues everything it can inflate, whatever is read (workerd:
 * 144 MB more peak for a 6000x6000 PNG; deflate reaches about 1000:1), so it is not used.
 * Reduced decodes take smaller slices: less garbage per slice while a large image streams through.
 */
const FEED_BYTES = { full: 16384, reduced: 4096 };

function inflate(idat: Uint8Array[], feed: number, take: (bytes: Uint8Array) => boolean): void {
  let more = true;
  try {
    const z = new Unzlib((chunk) => { if (more) more = take(chunk); });
    for (const part of idat) {
      for (let i = 0; i < part.length && more; i += feed) z.push(part.subarray(i, i + feed));
      if (!more) return;
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    throw e instanceof PngError ? e : new PngError(`corrupt image data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The image, box-reduced by `factor` (1: full size; the output is ceil(size / factor)). */
export function decodePng(d: Uint8Array, factor = 1): RgbaImage {
  const { ihdr: h, palette, idat } = readChunks(d);
  const ch = CHANNELS[h.colour]!;
  const bpp = Math.max(1, (ch * h.depth) / 8);
  const todo = passes(h);
  const widest = Math.ceil((h.width * ch * h.depth) / 8);
  const out = sink(h.width, h.height, factor);
  let cur = new Uint8Array(widest), prev = new Uint8Array(widest);
  const rgb = new Uint8Array(h.width * 3);
  const pal = new Uint8Array(768); // out-of-range palette indices read black
  if (palette) pal.set(palette.subarray(0, 768));
  let pi = 0, j = 0, filled = -1, filter = 0; // pass, row in it, bytes of the row read (-1: filter byte next)
  let rowBytes = Math.ceil((todo[0]!.w * ch * h.depth) / 8);

  const finishRow = () => {
    const p = todo[pi]!;
    unfilter(filter, cur, prev, bpp, rowBytes);
    toRgb(h, pal, cur, p.w, rgb);
    out.row(p, j, rgb);
    [prev, cur] = [cur, prev];
    if (++j < p.h) return;
    j = 0;
    if (++pi < todo.length) {
      rowBytes = Math.ceil((todo[pi]!.w * ch * h.depth) / 8);
      prev.fill(0); // each pass is filtered as its own image
    }
  };

  inflate(idat, factor > 1 ? FEED_BYTES.reduced : FEED_BYTES.full, (value) => {
    for (let i = 0; i < value.length && pi < todo.length;) {
      if (filled < 0) { filter = value[i++]!; filled = 0; continue; }
      const take = Math.min(rowBytes - filled, value.length - i);
      cur.set(value.subarray(i, i + take), filled);
      filled += take; i += take;
      if (filled === rowBytes) { finishRow(); filled = -1; }
    }
    return pi < todo.length; // every row is here: a bomb's tail is never inflated
  });
  if (pi < todo.length) throw new PngError('the image data ends early');
  return out.image();
}
