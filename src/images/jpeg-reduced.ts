/**
 * A JPEG decoded at 1/2, 1/4 or 1/8 scale straight from its DCT coefficients: each output pixel
 * is the exact mean of the 2x2, 4x4 or 8x8 pixels it stands for (the IDCT integrated over the
 * sub-block, so no full-size pixel is ever formed), chroma at the resolution that matches.
 *
 * Why: a phone photo (4032x3024) decoded in full is 48 MiB of RGBA plus as much again in
 * mozjpeg's heap, in a 128 MB isolate, only to be resized to a model's 224 or 32 pixels. At
 * 1/8 (504x378) it is still larger than any shipped model's resize target and costs ~1/64 of
 * the memory. At 1/8 only the DC coefficients matter for luma, so a baseline file's luma AC is
 * stepped over, and a progressive file needs only its DC scans (its AC scans are skipped unread,
 * its subsampled chroma replicated). Below 1/8 a progressive file's components keep their
 * quantised coefficients, 2 bytes a coefficient, until the last scan: up to MAX_COEF_BYTES,
 * beyond which (and for arithmetic coding, 12-bit, lossless, CMYK/YCCK) this returns null and the
 * caller decodes in full.
 *
 * Corrupt entropy data is treated as libjpeg does: the rest of that scan stays zero (mid-grey),
 * the decode still succeeds. Structural nonsense (no frame, bad table references) is a
 * JpegReduceError. Every loop is bounded by the frame's block count; reads past the end yield
 * zero bits.
 */
import type { RgbaImage } from './types';

export class JpegReduceError extends Error {}

/**
 * One component. `nx` x `ny` output values per block (1 x 1: the DC alone); `plane` holds them,
 * `stride * nx` wide. `dc` accumulates DC coefficients across progressive scans; `coefs` the 64
 * quantised coefficients of every block (natural order) of a progressive component that needs
 * its AC (nx * ny > 1), whose bands and bits arrive over several scans.
 */
interface Component {
  id: number; h: number; v: number; tq: number; quant: Int32Array | null;
  bw: number; bh: number; stride: number; rows: number; nx: number; ny: number;
  dc: Int32Array; plane: Uint8Array; coefs: Int16Array | null;
}
interface Frame {
  width: number; height: number; progressive: boolean; hmax: number; vmax: number; mcusX: number; mcusY: number;
  /** Output pixels per block of a full-resolution component: 8 / the scale's denominator. */
  n: number; comps: Component[];
}

/** Zigzag position -> natural (row * 8 + column) index. */
const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/**
 * WEIGHTS[n][u * n + i]: the mean over sub-block i (of n per side) of the 1-D IDCT basis
 * C(u)/2 cos((2x+1)u pi/16). The 2-D mean of a sub-block is then sum F(u,v) Wx[u,i] Wy[v,j].
 */
const WEIGHTS: Record<number, Float64Array> = Object.fromEntries([1, 2, 4, 8].map((n) => {
  const w = new Float64Array(8 * n), s = 8 / n;
  for (let u = 0; u < 8; u++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let x = i * s; x < (i + 1) * s; x++) sum += Math.cos(((2 * x + 1) * u * Math.PI) / 16);
      w[u * n + i] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * (sum / s);
    }
  }
  return [n, w];
}));
/**
 * Each DC scan walks every block of the frame, so a file of many tiny scans would cost that many
 * passes. Real progressive files have about ten scans (libjpeg-turbo's tools cap them at 500).
 */
const MAX_SCANS = 100;
/**
 * Progressive coefficients kept at most: 48 MiB is a 16 MP 4:2:0 file below 1/8 (3 bytes a
 * pixel, against about 8 for a full decode), the same 16 MP as MAX_FULL_DECODE_PIXELS' default.
 */
const MAX_COEF_BYTES = 48 * 2 ** 20;
/** The quantiser of a component whose table never arrived (read-only). */
const UNIT_QUANT = new Int32Array(64).fill(1);

/** Huffman table as a 16-bit lookup: entry = (code length << 8) | symbol, 0 = no such code. */
function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Uint16Array {
  const lut = new Uint16Array(1 << 16);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]!; i++) {
      if (k >= symbols.length) throw new JpegReduceError('Huffman table has fewer symbols than its counts');
      const shift = 16 - len;
      const first = code << shift;
      if (first + (1 << shift) > lut.length) throw new JpegReduceError('Huffman table overflows its code space');
      lut.fill((len << 8) | symbols[k++]!, first, first + (1 << shift));
      code++;
    }
    code <<= 1;
  }
  return lut;
}

/**
 * For reading past AC coefficients in one step: per 16-bit window, (bits to consume << 8) | how
 * far k advances (64 = end of block), when the code and its coefficient bits fit in 16 bits;
 * 0 = decode the slow way; -1 = no such code.
 */
function buildAcSkip(lut: Uint16Array): Int32Array {
  const skip = new Int32Array(1 << 16);
  for (let w = 0; w < skip.length; w++) {
    const e = lut[w]!;
    if (e === 0) { skip[w] = -1; continue; }
    const len = e >> 8, rs = e & 0xff, run = rs >> 4, size = rs & 15;
    if (size === 0) skip[w] = (len << 8) | (run === 15 ? 16 : 64);
    else if (len + size <= 16) skip[w] = ((len + size) << 8) | (run + 1);
  }
  return skip;
}

class BitReader {
  private acc = 0;
  private bits = 0;
  /** Zero bytes fed past the scan's data (a marker or the end): a truncated or corrupt scan. */
  overrun = 0;
  constructor(private readonly d: Uint8Array, public pos: number) {}

  private fill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      const d = this.d;
      if (this.pos < d.length) {
        byte = d[this.pos]!;
        if (byte === 0xff) {
          const next = d[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else { byte = 0; this.overrun++; } // a marker: feed zeros, stay put
        } else {
          this.pos++;
        }
      } else {
        this.overrun++;
      }
      this.acc = ((this.acc << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  /** One Huffman symbol, or -1 for a code the table does not have. */
  symbol(lut: Uint16Array): number {
    this.fill();
    const e = lut[(this.acc >>> (this.bits - 16)) & 0xffff]!;
    if (e === 0) return -1;
    this.bits -= e >> 8;
    return e & 0xff;
  }

  peek16(): number {
    this.fill();
    return (this.acc >>> (this.bits - 16)) & 0xffff;
  }

  consume(n: number): void {
    this.bits -= n;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    this.fill();
    const v = (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
    this.bits -= n;
    return v;
  }

  /** A signed coefficient of `n` bits (JPEG's EXTEND). */
  signed(n: number): number {
    const v = this.receive(n);
    return n === 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  skip(n: number): void {
    if (n === 0) return;
    this.fill();
    this.bits -= n;
  }

  /** Drops buffered bits and steps over an RSTn marker if one is next. */
  restart(): void {
    this.bits = 0;
    this.acc = 0;
    this.overrun = 0;
    const d = this.d;
    while (this.pos + 1 < d.length && !(d[this.pos] === 0xff && d[this.pos + 1]! >= 0xd0 && d[this.pos + 1]! <= 0xd7)) {
      if (d[this.pos] === 0xff && d[this.pos + 1] !== 0x00 && d[this.pos + 1] !== 0xff) return; // another marker: let the scan end
      this.pos++;
    }
    if (this.pos + 1 < d.length) this.pos += 2;
  }
}

/** The position of the next marker that is not a restart marker or stuffing, from `pos`. */
function nextMarker(d: Uint8Array, pos: number): number {
  for (let i = pos; i + 1 < d.length; i++) {
    if (d[i] !== 0xff) continue;
    const m = d[i + 1]!;
    if (m !== 0x00 && m !== 0xff && !(m >= 0xd0 && m <= 0xd7)) return i;
  }
  return d.length;
}

const u16 = (d: Uint8Array, i: number) => ((d[i]! << 8) | d[i + 1]!) >>> 0;

/**
 * The image at 1/`denom` scale (8, 4 or 2), or null where this decoder does not handle the file
 * (decode it in full).
 */
export function decodeJpegReduced(d: Uint8Array, denom: 2 | 4 | 8): RgbaImage | null {
  if (d[0] !== 0xff || d[1] !== 0xd8) throw new JpegReduceError('not a JPEG');
  const quant: Array<Int32Array | undefined> = [];
  const dcTables: Array<Uint16Array | undefined> = [];
  const acTables: Array<Uint16Array | undefined> = [];
  const acSkips: Array<Int32Array | undefined> = [];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let adobeTransform: number | null = null;
  let scans = 0;
  let pos = 2;
  while (pos + 4 <= d.length) {
    if (d[pos] !== 0xff) { pos = nextMarker(d, pos); continue; }
    const marker = d[pos + 1]!;
    if (marker === 0xff) { pos++; continue; }
    if (marker === 0xd9) break; // EOI
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { pos += 2; continue; }
    const len = u16(d, pos + 2);
    const seg = pos + 4, end = pos + 2 + len;
    if (len < 2 || end > d.length) throw new JpegReduceError('segment runs past the end of the file');
    switch (marker) {
      case 0xdb: // DQT, stored in natural order
        for (let i = seg; i < end;) {
          const pq = d[i]! >> 4, tq = d[i]! & 15;
          if (tq > 3) throw new JpegReduceError('bad quantisation table id');
          const table = new Int32Array(64);
          for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = pq === 0 ? (d[i + 1 + k] ?? 0) : u16(d, i + 1 + 2 * k);
          quant[tq] = table;
          i += 1 + (pq === 0 ? 64 : 128);
        }
        break;
      case 0xc4: // DHT
        for (let i = seg; i + 17 <= end;) {
          const tc = d[i]! >> 4, th = d[i]! & 15;
          const counts = d.subarray(i + 1, i + 17);
          const n = counts.reduce((a, b) => a + b, 0);
          if (th > 3 || tc > 1 || i + 17 + n > end) throw new JpegReduceError('bad Huffman table');
          const lut = buildHuffman(counts, d.subarray(i + 17, i + 17 + n));
          if (tc === 0) dcTables[th] = lut;
          else { acTables[th] = lut; acSkips[th] = undefined; } // its skip table is built on first use
          i += 17 + n;
        }
        break;
      case 0xdd: // DRI
        restartInterval = u16(d, seg);
        break;
      case 0xee: // APP14 Adobe: its transform flag says whether 3 components are YCbCr
        if (len >= 14 && String.fromCharCode(...d.subarray(seg, seg + 5)) === 'Adobe') adobeTransform = d[seg + 11]!;
        break;
      case 0xc0: case 0xc1: case 0xc2: {
        if (frame) throw new JpegReduceError('a second frame header');
        if (d[seg] !== 8) return null; // 12-bit
        frame = readFrame(d, seg, marker === 0xc2, 8 / denom);
        if (!frame) return null;
        break;
      }
      case 0xda: { // SOS
        if (!frame) throw new JpegReduceError('a scan before the frame header');
        if (scans >= MAX_SCANS) throw new JpegReduceError(`more than ${MAX_SCANS} scans`);
        pos = decodeScan(d, seg, end, frame, quant, dcTables, acTables, acSkips, restartInterval);
        scans++;
        continue;
      }
      default:
        // Other SOFn: lossless, hierarchical or arithmetic-coded. Not handled here.
        if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return null;
    }
    pos = end;
  }
  if (!frame) throw new JpegReduceError('no frame header');
  if (scans === 0) throw new JpegReduceError('no scan');
  if (frame.progressive) finishProgressive(frame);
  return toRgba(frame, rgbComponents(frame, adobeTransform));
}

function readFrame(d: Uint8Array, seg: number, progressive: boolean, n: number): Frame | null {
  const height = u16(d, seg + 1), width = u16(d, seg + 3), count = d[seg + 5]!;
  if (width === 0 || height === 0) throw new JpegReduceError('zero image size');
  if (count !== 1 && count !== 3) return null; // CMYK / YCCK: decode in full
  const comps: Component[] = [];
  for (let i = 0; i < count; i++) {
    const o = seg + 6 + 3 * i;
    const h = d[o + 1]! >> 4, v = d[o + 1]! & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new JpegReduceError('bad sampling factors');
    comps.push({ id: d[o]!, h, v, tq: d[o + 2]! & 3, quant: null, bw: 0, bh: 0, stride: 0, rows: 0, nx: 1, ny: 1, dc: new Int32Array(0), plane: new Uint8Array(0), coefs: null });
  }
  const hmax = Math.max(...comps.map((c) => c.h)), vmax = Math.max(...comps.map((c) => c.v));
  const mcusX = Math.ceil(width / (8 * hmax)), mcusY = Math.ceil(height / (8 * vmax));
  for (const c of comps) {
    c.bw = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
    c.bh = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
    c.stride = mcusX * c.h;
    c.rows = mcusY * c.v;
    // As many values per block as output pixels it covers (subsampled chroma covers more), up to
    // the 8 a block has. A progressive file at 1/8 keeps to its DC scans (chroma replicated):
    // parsing its chroma AC scans would make a 12 MP photo 4x slower (15 -> 55-75 ms in Node)
    // for chroma detail that a model's resize averages away.
    if (!progressive || n > 1) {
      c.nx = Math.min(8, (n * hmax) / c.h);
      c.ny = Math.min(8, (n * vmax) / c.v);
      if (!Number.isInteger(c.nx) || !Number.isInteger(c.ny)) return null; // e.g. a sampling factor of 3
    }
    c.dc = new Int32Array(c.stride * c.rows);
    // Blocks a truncated scan never reaches stay mid-grey (a zero DC), as libjpeg leaves them.
    c.plane = new Uint8Array(c.stride * c.nx * c.rows * c.ny).fill(128);
  }
  if (progressive) {
    const needAc = comps.filter((c) => c.nx * c.ny > 1);
    if (needAc.reduce((bytes, c) => bytes + c.stride * c.rows * 128, 0) > MAX_COEF_BYTES) return null;
    for (const c of needAc) c.coefs = new Int16Array(c.stride * c.rows * 64);
  }
  return { width, height, progressive, hmax, vmax, mcusX, mcusY, n, comps };
}

/** Decodes one scan; -> the position after its entropy-coded data. */
function decodeScan(d: Uint8Array, seg: number, end: number, f: Frame, quant: Array<Int32Array | undefined>, dcTables: Array<Uint16Array | undefined>,
  acTables: Array<Uint16Array | undefined>, acSkips: Array<Int32Array | undefined>, restartInterval: number): number {
  const ns = d[seg]!;
  const scomps: Array<{ c: Component; dct?: Uint16Array; act?: Uint16Array; skip?: Int32Array }> = [];
  for (let i = 0; i < ns; i++) {
    const c = f.comps.find((x) => x.id === d[seg + 1 + 2 * i]);
    if (!c) throw new JpegReduceError('a scan names a component the frame lacks');
    const t = d[seg + 2 + 2 * i]!;
    const act = acTables[t & 15];
    // Components that need only their DC read past the AC coefficients in table steps.
    if (!f.progressive && act && c.nx * c.ny === 1) acSkips[t & 15] ??= buildAcSkip(act);
    scomps.push({ c, dct: dcTables[t >> 4], act, skip: acSkips[t & 15] });
  }
  const p = seg + 1 + 2 * ns;
  const ss = d[p]!, se = d[p + 1]!, ah = d[p + 2]! >> 4, al = d[p + 2]! & 15;
  // Quantisers are latched when a component is first scanned, as libjpeg does.
  for (const { c } of scomps) c.quant ??= quant[c.tq] ?? UNIT_QUANT;
  const acScan = f.progressive && ss > 0;
  if (acScan) {
    if (ns !== 1 || se < ss || se > 63) throw new JpegReduceError('a bad progressive AC scan');
    if (!scomps[0]!.c.coefs) return nextMarker(d, end); // its DC is all this component needs
    if (!scomps[0]!.act) throw new JpegReduceError('a scan uses an undefined AC table');
  }
  for (const s of scomps) {
    if (!acScan && !(f.progressive && ah > 0) && !s.dct) throw new JpegReduceError('a scan uses an undefined DC table');
    if (!f.progressive && !s.act) throw new JpegReduceError('a scan uses an undefined AC table');
  }
  const r = new BitReader(d, end);
  const pred = new Int32Array(ns);
  const ac = acScan ? progressiveAc(r, scomps[0]!.c.coefs!, scomps[0]!.act!, ss, se, ah, al) : null;
  // A block's nonzero dequantised coefficients as (natural index, value) pairs: most are zero,
  // and the sub-block means need only the others.
  const zs = new Int32Array(64);
  const vals = new Float64Array(64);
  const means = new Float64Array(64);
  /** One block at (bx, by) of its component. false = corrupt data. */
  const block = (si: number, bx: number, by: number): boolean => {
    const s = scomps[si]!, c = s.c, index = by * c.stride + bx;
    if (ac) return ac.block(index);
    if (f.progressive) {
      if (ah > 0) { c.dc[index]! |= r.receive(1) << al; return true; }
      const t = r.symbol(s.dct!);
      if (t < 0 || t > 16) return false;
      pred[si]! += r.signed(t);
      c.dc[index] = pred[si]! << al;
      return true;
    }
    const t = r.symbol(s.dct!);
    if (t < 0 || t > 16) return false;
    pred[si]! += r.signed(t);
    c.dc[index] = pred[si]!;
    if (c.nx * c.ny === 1) return skipAc(r, s.skip!, s.act!);
    const q = c.quant!;
    zs[0] = 0;
    vals[0] = pred[si]! * q[0]!;
    let count = 1;
    for (let k = 1; k < 64;) {
      const rs = r.symbol(s.act!);
      if (rs < 0) return false;
      const run = rs >> 4, size = rs & 15;
      if (size === 0) {
        if (run !== 15) break; // end of block
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) return false;
      const z = ZIGZAG[k]!;
      zs[count] = z;
      vals[count++] = r.signed(size) * q[z]!;
      k++;
    }
    writeMeans(c, bx, by, zs, vals, count, means);
    return true;
  };
  const units = ns === 1 ? scomps[0]!.c.bw * scomps[0]!.c.bh : f.mcusX * f.mcusY;
  for (let u = 0; u < units; u++) {
    if (restartInterval > 0 && u > 0 && u % restartInterval === 0) {
      r.restart();
      pred.fill(0);
      ac?.restart();
    }
    // The fill keeps up to 4 bytes ahead, so more zero bytes than that means the data ran out:
    // the rest of the scan stays zero (as libjpeg does), and no work is spent on it.
    if (r.overrun > 4) break;
    if (ns === 1) {
      const c = scomps[0]!.c;
      if (!block(0, u % c.bw, (u / c.bw) | 0)) break;
      continue;
    }
    const mx = u % f.mcusX, my = (u / f.mcusX) | 0;
    let ok = true;
    for (let si = 0; si < ns && ok; si++) {
      const c = scomps[si]!.c;
      for (let v = 0; v < c.v && ok; v++) {
        for (let h = 0; h < c.h && ok; h++) ok = block(si, mx * c.h + h, my * c.v + v);
      }
    }
    if (!ok) break;
  }
  return nextMarker(d, r.pos);
}

/**
 * One progressive AC scan of one component (ITU T.81 G.1.2.2, as libjpeg's jdphuff.c decodes it):
 * band ss..se of every block, a first pass (ah = 0) or a refinement of one more bit (ah > 0),
 * with end-of-band runs that span blocks. `block` returns false on corrupt data.
 */
function progressiveAc(r: BitReader, coefs: Int16Array, act: Uint16Array, ss: number, se: number, ah: number, al: number) {
  let eobrun = 0;
  const p1 = 1 << al, m1 = -1 << al;
  /** A correction bit for an already-nonzero coefficient: one more bit of its magnitude. */
  const refine = (i: number) => {
    const v = coefs[i]!;
    if (r.receive(1) && (v & p1) === 0) coefs[i] = v >= 0 ? v + p1 : v + m1;
  };
  const first = (base: number): boolean => {
    if (eobrun > 0) { eobrun--; return true; }
    for (let k = ss; k <= se; k++) {
      const rs = r.symbol(act);
      if (rs < 0) return false;
      const run = rs >> 4, size = rs & 15;
      if (size === 0) {
        if (run === 15) { k += 15; continue; }
        eobrun = (1 << run) - 1 + r.receive(run);
        return true;
      }
      k += run;
      if (k > se) return false;
      coefs[base + ZIGZAG[k]!] = r.signed(size) * p1;
    }
    return true;
  };
  const refinement = (base: number): boolean => {
    let k = ss;
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = r.symbol(act);
        if (rs < 0) return false;
        let run = rs >> 4;
        const size = rs & 15;
        let value = 0;
        if (size) {
          if (size !== 1) return false;
          value = r.receive(1) ? p1 : m1;
        } else if (run !== 15) {
          eobrun = (1 << run) + r.receive(run);
          break; // the rest of this block is an end-of-band: below
        }
        // Past already-nonzero coefficients (each gets its correction bit) and `run` zero ones.
        for (; k <= se; k++) {
          const i = base + ZIGZAG[k]!;
          if (coefs[i] !== 0) refine(i);
          else if (--run < 0) break;
        }
        if (value) {
          if (k > se) return false;
          coefs[base + ZIGZAG[k]!] = value;
        }
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const i = base + ZIGZAG[k]!;
        if (coefs[i] !== 0) refine(i);
      }
      eobrun--;
    }
    return true;
  };
  const decode = ah === 0 ? first : refinement;
  return {
    block: (index: number) => decode(index * 64),
    restart: () => { eobrun = 0; },
  };
}

/**
 * The natural indices (after the DC) whose basis functions have a nonzero mean over some
 * sub-block of an nx x ny split: e.g. for halves, even frequencies average to zero over each.
 */
function contributing(nx: number, ny: number): Int32Array {
  const used = (n: number, u: number) => Array.from({ length: n }, (_, i) => Math.abs(WEIGHTS[n]![u * n + i]!)).some((w) => w > 1e-9);
  const out: number[] = [];
  for (let z = 1; z < 64; z++) if (used(nx, z & 7) && used(ny, z >> 3)) out.push(z);
  return Int32Array.from(out);
}

/** The sub-block means of progressive components that kept their coefficients, into their planes. */
function finishProgressive(f: Frame): void {
  const zs = new Int32Array(64), vals = new Float64Array(64), means = new Float64Array(64);
  for (const c of f.comps) {
    if (!c.coefs) continue;
    const q = c.quant ?? UNIT_QUANT;
    const needed = contributing(c.nx, c.ny);
    for (let by = 0; by < c.rows; by++) {
      for (let bx = 0; bx < c.stride; bx++) {
        const index = by * c.stride + bx, base = index * 64;
        zs[0] = 0;
        vals[0] = c.dc[index]! * q[0]!;
        let count = 1;
        for (let e = 0; e < needed.length; e++) {
          const z = needed[e]!, v = c.coefs[base + z]!;
          if (v !== 0) { zs[count] = z; vals[count++] = v * q[z]!; }
        }
        writeMeans(c, bx, by, zs, vals, count, means);
      }
    }
  }
}

/** Reads past one block's AC coefficients. false = corrupt data. */
function skipAc(r: BitReader, skip: Int32Array, act: Uint16Array): boolean {
  for (let k = 1; k < 64;) {
    const e = skip[r.peek16()]!;
    if (e > 0) { r.consume(e >> 8); k += e & 0xff; continue; }
    if (e < 0) return false;
    const rs = r.symbol(act);
    if (rs < 0) return false;
    const run = rs >> 4, size = rs & 15;
    if (size === 0) {
      if (run !== 15) return true; // end of block
      k += 16;
    } else {
      k += run + 1;
      r.skip(size);
    }
  }
  return true;
}

/** The block's nx x ny sub-block means from its `count` nonzero coefficients, into the plane. */
function writeMeans(c: Component, bx: number, by: number, zs: Int32Array, vals: Float64Array, count: number, means: Float64Array): void {
  const { nx, ny } = c, wx = WEIGHTS[nx]!, wy = WEIGHTS[ny]!;
  means.fill(0, 0, nx * ny);
  for (let e = 0; e < count; e++) {
    const z = zs[e]!, f = vals[e]!;
    const ux = (z & 7) * nx, vy = (z >> 3) * ny;
    for (let j = 0; j < ny; j++) {
      const fy = f * wy[vy + j]!;
      for (let i = 0; i < nx; i++) means[j * nx + i]! += fy * wx[ux + i]!;
    }
  }
  const width = c.stride * nx;
  for (let j = 0; j < ny; j++) {
    const row = (by * ny + j) * width + bx * nx;
    for (let i = 0; i < nx; i++) c.plane[row + i] = clamp(Math.round(means[j * nx + i]! + 128));
  }
}

/** Whether three components are RGB rather than YCbCr (Adobe transform 0, or ids 'R','G','B'). */
function rgbComponents(f: Frame, adobeTransform: number | null): boolean {
  if (f.comps.length !== 3) return false;
  if (adobeTransform !== null) return adobeTransform === 0;
  return f.comps[0]!.id === 0x52 && f.comps[1]!.id === 0x47 && f.comps[2]!.id === 0x42;
}

function toRgba(f: Frame, rgb: boolean): RgbaImage {
  const width = Math.ceil((f.width * f.n) / 8), height = Math.ceil((f.height * f.n) / 8);
  for (const c of f.comps) {
    if (c.nx * c.ny !== 1) continue;
    // DC only: libjpeg's 1x1 IDCT, the dequantised DC descaled by 8 with rounding, level-shifted.
    const q = c.quant?.[0] ?? 1;
    for (let i = 0; i < c.dc.length; i++) c.plane[i] = clamp(((c.dc[i]! * q + 4) >> 3) + 128);
  }
  // Output pixel x of component c: its plane column x * (h * nx) / (hmax * n); the identity
  // where nx matched the subsampling, a replication where it could not (progressive chroma).
  const cols = f.comps.map((c) => Int32Array.from({ length: width }, (_, x) => Math.floor((x * c.h * c.nx) / (f.hmax * f.n))));
  const rowOf = (c: Component, y: number) => Math.floor((y * c.v * c.ny) / (f.vmax * f.n)) * c.stride * c.nx;
  const out = new Uint8Array(width * height * 4).fill(255);
  const [p0, p1, p2] = f.comps.map((c) => c.plane) as [Uint8Array, Uint8Array?, Uint8Array?];
  const [c0, c1, c2] = cols as [Int32Array, Int32Array?, Int32Array?];
  for (let y = 0; y < height; y++) {
    const r0 = rowOf(f.comps[0]!, y);
    let o = y * width * 4;
    if (!p1 || !p2 || !c1 || !c2) {
      for (let x = 0; x < width; x++, o += 4) out[o] = out[o + 1] = out[o + 2] = p0[r0 + c0[x]!]!;
      continue;
    }
    const r1 = rowOf(f.comps[1]!, y), r2 = rowOf(f.comps[2]!, y);
    if (rgb) {
      for (let x = 0; x < width; x++, o += 4) {
        out[o] = p0[r0 + c0[x]!]!; out[o + 1] = p1[r1 + c1[x]!]!; out[o + 2] = p2[r2 + c2[x]!]!;
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += 4) {
      const lum = p0[r0 + c0[x]!]!, cb = p1[r1 + c1[x]!]!, cr = p2[r2 + c2[x]!]!;
      out[o] = clamp(lum + CR_R[cr]!);
      out[o + 1] = clamp(lum + ((CB_G[cb]! + CR_G[cr]!) >> 16));
      out[o + 2] = clamp(lum + CB_B[cb]!);
    }
  }
  return { width, height, data: out };
}

/** libjpeg's YCbCr -> RGB tables (jdcolor.c: 16-bit fixed point, rounded), indexed by Cb or Cr. */
const fix = (x: number) => Math.floor(x * 65536 + 0.5);
const CR_R = Int32Array.from({ length: 256 }, (_, i) => (fix(1.402) * (i - 128) + 32768) >> 16);
const CB_B = Int32Array.from({ length: 256 }, (_, i) => (fix(1.772) * (i - 128) + 32768) >> 16);
const CR_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.71414) * (i - 128));
const CB_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.34414) * (i - 128) + 32768);

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
