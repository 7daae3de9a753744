import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

let w: TestWorker;
beforeAll(async () => { w = await startWorker(); });
afterAll(async () => { await w?.dispose(); });

describe('smoke', () => {
  it('classifies a photo with squeezenet', async () => {
    const jpg = readFileSync(join(SHARED_DIR, 'images', 'n01440764_tench.JPEG'));
    const res = await w.fetch('/v1/classify?model=squeezenet1.1-imagenet', { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpg });
    const body = await res.json();
    console.log(JSON.stringify(body, null, 1));
    expect(res.status).toBe(200);
  });
});
