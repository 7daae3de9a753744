import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-ignore
import { SHARED_DIR, ROOT } from '../../scripts/lib/local-models.mjs';

export const PHOTOS = join(SHARED_DIR, 'images');
export const photo = (name: string) => new Uint8Array(readFileSync(join(PHOTOS, name)));

/** PNG/WebP/EXIF variants of a real photo, made by PIL (scripts/reference/make_images.py). */
export function derivedImages(source = 'n01440764_tench.JPEG') {
  const dir = mkdtempSync(join(tmpdir(), 'imgs-'));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(ROOT, 'scripts/reference/make_images.py'), join(PHOTOS, source), dir]);
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  return {
    png: read('photo.png'), webp: read('photo.webp'), lossyWebp: read('photo-lossy.webp'), orient6: read('orient6.jpg'),
    orient6Png: read('orient6.png'), orient6Webp: read('orient6.webp'),
    upright: read('upright.jpg'), progressive: read('progressive.jpg'), gray: read('gray.png'), rgba: read('rgba.png'),
  };
}

export async function expectProblem(res: Response, status: number, type: string) {
  const body = (await res.json()) as Record<string, unknown>;
  const ok = res.status === status && res.headers.get('content-type') === 'application/problem+json' && body.type === `https://edge-vit.dev/problems/${type}`;
  if (!ok) throw new Error(`expected ${status} ${type}, got ${res.status} ${res.headers.get('content-type')} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}
