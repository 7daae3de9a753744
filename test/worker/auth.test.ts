// API keys, scopes, public reads, AUTH_MODE, and the per-request log line, through the real
// Worker in workerd. Keys are seeded as SHA-256 hashes into the Miniflare KV namespace.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, photo } from '../support/images';
import { captureLogs } from '../support/logs';
import { DEV_API_KEY, startWorker, type TestWorker } from '../support/worker';

const MODEL = 'squeezenet1.1-imagenet';
const TENCH = photo('n01440764_tench.JPEG');
const KEYS = {
  classify: 'evk_test_classify_only_0123456789abcdefghijklmnop',
  embed: 'evk_test_embed_only_0123456789abcdefghijklmnopqrs',
  batches: 'evk_test_batches_only_0123456789abcdefghijklmnopq',
  admin: 'evk_test_admin_0123456789abcdefghijklmnopqrstuvw',
  none: 'evk_test_no_scopes_0123456789abcdefghijklmnopqrst',
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let w: TestWorker;
const logs = captureLogs();
beforeAll(async () => {
  w = await startWorker({
    models: [MODEL],
    vars: { DEFAULT_MODEL: MODEL, REQUEST_LOGS: 'true' },
    keys: [
      { key: KEYS.classify, id: 'k-classify', scopes: ['classify'] },
      { key: KEYS.embed, id: 'k-embed', scopes: ['embed'] },
      { key: KEYS.batches, id: 'k-batches', scopes: ['batches'] },
      { key: KEYS.admin, id: 'k-admin', scopes: ['admin'] },
      { key: KEYS.none, id: 'k-none', scopes: [] },
    ],
    miniflare: logs.miniflare,
  });
});
afterAll(async () => { await w?.dispose(); });

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const classify = (headers: Record<string, string>, path = '/v1/classify') =>
  w.fetch(path, { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...headers } });

/** The route itself answered: this worker has no D1, so batch routes say 503 batches-unavailable. */
async function expectPastAuth(res: Response) {
  const body = (await res.json()) as { type?: string };
  expect(res.status < 500 || String(body.type).endsWith('/batches-unavailable'), `${res.status} ${body.type}`).toBe(true);
}

describe('authentication', () => {
  it('no Authorization header: 401 problem with a Bearer challenge', async () => {
    const res = await w.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' }, auth: false });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="edge-vit"/);
    const body = await expectProblem(res, 401, 'unauthorized');
    expect(body.detail).toMatch(/Bearer/);
  });
  it('malformed or non-Bearer credentials: 401', async () => {
    for (const h of ['Basic ZGV2OmRldg==', 'Bearer', 'Bearer ', `Bearer ${DEV_API_KEY} extra`, `Token ${DEV_API_KEY}`, `Bearer ${'a'.repeat(300)}`]) {
      await expectProblem(await classify({ authorization: h }), 401, 'unauthorized');
    }
  });
  it('unknown key: 401 invalid_token; a key differing in one character is unknown', async () => {
    const res = await classify(bearer('evk_not_a_real_key'));
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await expectProblem(res, 401, 'unauthorized');
    await expectProblem(await classify(bearer(KEYS.admin.slice(0, -1) + 'X')), 401, 'unauthorized');
    await expectProblem(await classify(bearer(DEV_API_KEY.toUpperCase())), 401, 'unauthorized');
  });
  it('the dev key works and the scheme name is case-insensitive', async () => {
    expect((await classify(bearer(DEV_API_KEY))).status).toBe(200);
    expect((await classify({ authorization: `bearer ${DEV_API_KEY}` })).status).toBe(200);
  });
  it('KV holds only hashes: no stored name or value contains a key', async () => {
    const names = (await w.keys.list()).keys.map((k) => k.name);
    expect(names).toContain(`sha256:${sha(KEYS.classify)}`);
    for (const name of names) {
      expect(name).toMatch(/^sha256:[0-9a-f]{64}$/);
      const value = (await w.keys.get(name))!;
      for (const k of [...Object.values(KEYS), DEV_API_KEY]) expect(value).not.toContain(k);
      expect(Object.keys(JSON.parse(value)).sort()).toEqual(expect.arrayContaining(['created', 'id', 'scopes']));
    }
  });
  it('a malformed KV record is no key (fail closed)', async () => {
    const key = 'evk_test_malformed_record_0123456789abcdefghijkl';
    await w.keys.put(`sha256:${sha(key)}`, '{"scopes":"classify"}');
    await expectProblem(await classify(bearer(key)), 401, 'unauthorized');
    const key2 = 'evk_test_not_json_0123456789abcdefghijklmnopqrstu';
    await w.keys.put(`sha256:${sha(key2)}`, 'not json');
    const res = await classify(bearer(key2));
    expect(res.status).toBeLessThan(500);
    expect(res.status).toBe(401);
  });
});

describe('scopes', () => {
  it('classify scope: /v1/classify 200; /v1/embed and /v1/batches 403 naming the scope', async () => {
    expect((await classify(bearer(KEYS.classify))).status).toBe(200);
    const embed = await w.fetch('/v1/embed', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...bearer(KEYS.classify) } });
    expect(embed.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="embed"');
    expect((await expectProblem(embed, 403, 'forbidden')).required_scope).toBe('embed');
    for (const [method, path] of [['POST', '/v1/batches'], ['GET', '/v1/batches/abc'], ['GET', '/v1/batches/abc/results']]) {
      expect((await expectProblem(await w.fetch(path!, { method, headers: bearer(KEYS.classify) }), 403, 'forbidden')).required_scope).toBe('batches');
    }
  });
  it('embed scope passes auth on /v1/embed (the model then refuses: no embedding output) but not /v1/classify', async () => {
    const res = await w.fetch('/v1/embed', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...bearer(KEYS.embed) } });
    await expectProblem(res, 422, 'embedding-unsupported');
    await expectProblem(await classify(bearer(KEYS.embed)), 403, 'forbidden');
  });
  it('batches scope reaches /v1/batches* (whatever the route answers, not 401/403) and nothing else', async () => {
    const res = await w.fetch('/v1/batches/does-not-exist', { headers: bearer(KEYS.batches) });
    expect([401, 403]).not.toContain(res.status);
    await expectPastAuth(res);
    await expectProblem(await classify(bearer(KEYS.batches)), 403, 'forbidden');
  });
  it('admin implies every scope; model publishing (non-GET /v1/models*) needs admin', async () => {
    expect((await classify(bearer(KEYS.admin))).status).toBe(200);
    await expectProblem(await w.fetch(`/v1/models/${MODEL}`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json', ...bearer(KEYS.classify) } }), 403, 'forbidden');
    await expectProblem(await w.fetch('/v1/models', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, auth: false }), 401, 'unauthorized');
    const admin = await w.fetch(`/v1/models/${MODEL}`, { method: 'DELETE', headers: bearer(KEYS.admin) });
    expect([401, 403]).not.toContain(admin.status);
  });
  it('a key with no scopes can only do what needs no scope', async () => {
    await expectProblem(await classify(bearer(KEYS.none)), 403, 'forbidden');
    await expectProblem(await w.fetch('/v2/anything', { headers: bearer(KEYS.none) }), 404, 'not-found');
  });
  it('paths the router normalises cannot dodge the scope check', async () => {
    // Hono routes on the percent-decoded path; the scope check reads the same path.
    for (const path of ['/v1/%63lassify', '/v1/classify/', '/v1/classify?x=/v1/embed', '/v1//classify', '/V1/CLASSIFY']) {
      const res = await classify(bearer(KEYS.embed), path);
      expect(res.status, path).not.toBe(200);
      expect([403, 404], path).toContain(res.status);
      const anon = await w.fetch(path, { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' }, auth: false });
      expect(anon.status, path).toBe(401);
    }
  });
});

describe('public reads and deny-by-default', () => {
  it('PUBLIC_READS=true (wrangler.toml default): model list, health, openapi need no key', async () => {
    for (const path of ['/healthz', '/readyz', '/v1/models', `/v1/models/${MODEL}`, '/openapi.json']) {
      expect((await w.fetch(path, { auth: false })).status, path).toBe(200);
    }
  });
  it('unknown paths need a key before they 404 (no route enumeration without one)', async () => {
    await expectProblem(await w.fetch('/v2/nothing', { auth: false }), 401, 'unauthorized');
    await expectProblem(await w.fetch('/v2/nothing'), 404, 'not-found');
  });
  it('the webhook route authenticates itself: no key asked for', async () => {
    const res = await w.fetch('/v1/webhooks/ingest', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, auth: false });
    expect([401, 403]).not.toContain(res.status);
    await expectPastAuth(res);
  });
  it('PUBLIC_READS=false: reads need a key too', async () => {
    const priv = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, PUBLIC_READS: 'false' } });
    try {
      for (const path of ['/healthz', '/v1/models', '/openapi.json']) {
        await expectProblem(await priv.fetch(path, { auth: false }), 401, 'unauthorized');
        expect((await priv.fetch(path)).status, path).toBe(200);
      }
    } finally {
      await priv.dispose();
    }
  });
});

describe('AUTH_MODE', () => {
  it('off: no key needed anywhere (for deployments behind their own gateway)', async () => {
    const open = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, AUTH_MODE: 'off', PUBLIC_READS: 'false' } });
    try {
      expect((await open.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' }, auth: false })).status).toBe(200);
      expect((await open.fetch('/v1/models', { auth: false })).status).toBe(200);
    } finally {
      await open.dispose();
    }
  });
  it('any other value (a typo) means keys: fail closed', async () => {
    const typo = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, AUTH_MODE: 'of' } });
    try {
      await expectProblem(await typo.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' }, auth: false }), 401, 'unauthorized');
      expect((await typo.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' } })).status).toBe(200);
    } finally {
      await typo.dispose();
    }
  });
  it('DEV_API_KEY_HASH (for .dev.vars) accepts exactly that key, compared by hash', async () => {
    const key = 'evk_from_dev_vars_0123456789abcdefghijklmnopqrstu';
    const dv = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, DEV_API_KEY_HASH: sha(key) } });
    try {
      expect((await dv.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...bearer(key) } })).status).toBe(200);
      await expectProblem(await dv.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...bearer(key + 'x') } }), 401, 'unauthorized');
    } finally {
      await dv.dispose();
    }
  });
});

describe('request log line', () => {
  it('one JSON line per request with request id, key id, model, status, outcome and timings', async () => {
    const ok = await classify(bearer(KEYS.classify));
    expect(ok.status).toBe(200);
    const denied = await w.fetch('/v1/embed', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg', ...bearer(KEYS.classify) } });
    expect(denied.status).toBe(403);
    const anon = await w.fetch('/v1/classify', { method: 'POST', body: TENCH, auth: false });
    expect(anon.status).toBe(401);
    const find = logs.request;
    const a = await find(ok.headers.get('x-request-id'));
    expect(a).toMatchObject({ level: 'info', method: 'POST', route: '/v1/classify', status: 200, outcome: 'ok', key_id: 'k-classify', model: MODEL });
    expect(a.timings_ms).toMatchObject({ decode: expect.any(Number), inference: expect.any(Number) });
    expect(a.duration_ms).toEqual(expect.any(Number));
    expect(new Date(a.ts).getTime()).toBeGreaterThan(0);
    expect(await find(denied.headers.get('x-request-id'))).toMatchObject({ level: 'warn', status: 403, outcome: 'forbidden', key_id: 'k-classify', route: '/v1/embed' });
    expect(await find(anon.headers.get('x-request-id'))).toMatchObject({ status: 401, outcome: 'unauthorized', key_id: null });
    // Exactly one line per request.
    const id = ok.headers.get('x-request-id');
    expect(logs.lines.filter((l) => l.includes(`"request_id":"${id}"`))).toHaveLength(1);
    // The key itself never reaches the logs.
    for (const k of Object.values(KEYS)) expect(logs.lines.join('\n')).not.toContain(k);
  });
});
