import { z } from 'zod';

/**
 * A test-time view, by name (docs/manifest.md; scripts/train/views.py builds the same ones):
 * "hflip" (the mirror image), "shift(dy,dx)" (output pixel (y, x) shows input pixel (y+dy, x+dx),
 * edges reflected, as the training crops padded them) or "hflip+shift(dy,dx)" (mirror, then shift).
 */
const VIEW_RE = /^(?:(hflip)|(hflip\+)?shift\((-?\d),(-?\d)\))$/;
/** Training crops moved images by at most 4 px; a larger shift would be out of distribution. */
export const MAX_SHIFT = 4;

interface ViewOp { mirror: boolean; dy: number; dx: number }

export function parseView(name: string): ViewOp | null {
  const m = VIEW_RE.exec(name);
  if (!m) return null;
  if (m[1]) return { mirror: true, dy: 0, dx: 0 };
  const [dy, dx] = [Number(m[3]), Number(m[4])];
  if (Math.max(Math.abs(dy), Math.abs(dx)) > MAX_SHIFT || (dy === 0 && dx === 0)) return null;
  return { mirror: Boolean(m[2]), dy, dx };
}

export const ViewSchema = z.string().refine((s) => parseView(s) !== null, {
  message: `a test-time view is "hflip", "shift(dy,dx)" or "hflip+shift(dy,dx)" with |dy|, |dx| <= ${MAX_SHIFT}`,
});

export type View = z.infer<typeof ViewSchema>;

/** Model inputs per image: the image itself, then each test-time view. */
export const viewCount = (views: readonly View[]): number => 1 + views.length;

/**
 * Writes the test-time views of the image at slot `index` of `out` into the slots after it.
 * Mirroring and shifting commute with the per-channel normalisation, so the normalised tensor is
 * remapped instead of resizing the image again.
 */
export function writeViews(out: Float32Array, index: number, size: number, layout: 'NCHW' | 'NHWC', views: readonly View[]): void {
  const per = 3 * size * size;
  const src = out.subarray(index * per, (index + 1) * per);
  views.forEach((view, v) => remap(src, out.subarray((index + 1 + v) * per, (index + 2 + v) * per), size, layout, opOf(view)));
}

// Every image of every request names the same few views; parse each name once per isolate.
const ops = new Map<string, ViewOp>();

function opOf(view: View): ViewOp {
  let op = ops.get(view);
  if (!op) {
    const parsed = parseView(view);
    if (!parsed) throw new TypeError(`unknown test-time view ${view}`); // the manifest schema refuses these first
    ops.set(view, (op = parsed));
  }
  return op;
}

/** Reflects an index into [0, size) the way the training crops' reflect padding did (edge not repeated). */
function reflect(i: number, size: number): number {
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  const m = ((i % period) + period) % period;
  return m < size ? m : period - m;
}

/** dst(y, x) = src(reflect(y + dy), mirrored(reflect(x + dx))), per channel, in either layout. */
function remap(src: Float32Array, dst: Float32Array, size: number, layout: 'NCHW' | 'NHWC', op: ViewOp): void {
  // NCHW: channel planes of size*size, neighbouring pixels 1 apart; NHWC: channels 1 apart, pixels 3.
  const [channel, pixel] = layout === 'NCHW' ? [size * size, 1] : [1, 3];
  const cols = Array.from({ length: size }, (_, x) => {
    const sx = reflect(x + op.dx, size);
    return op.mirror ? size - 1 - sx : sx;
  });
  for (let y = 0; y < size; y++) {
    const sy = reflect(y + op.dy, size);
    for (let x = 0; x < size; x++) {
      const to = (y * size + x) * pixel;
      const from = (sy * size + cols[x]!) * pixel;
      for (let c = 0; c < 3; c++) dst[to + c * channel] = src[from + c * channel]!;
    }
  }
}
