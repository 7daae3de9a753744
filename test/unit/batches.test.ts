// Pure parts of batch tagging: backoff, fault spec, canonical request hashing, Standard Webhooks.
import { describe, expect, it } from 'vitest';
import { backoffSeconds } from '../../src/batches/backoff';
import { canonicalJson, chunk } from '../../src/batches/create';
import { faultsFrom, shouldCrash, unitHash } from '../../src/batches/faults';
import { sqlStatements } from '../support/batches';
import { generateSecret, signatureHeaders, verify } from '../../src/lib/webhook-signature';
import { readFileSync } from 'node:fs';

describe('backoffSeconds (exponential, equal jitter)', () => {
  it('doubles per attempt, capped, jittered within [nominal/2, nominal]', () => {
    for (const [attempt, nominal] of [[1, 10], [2, 20], [3, 40], [4, 80], [7, 600], [30, 600]] as const) {
      expect(backoffSeconds(attempt, 10, 600, () => 0)).toBe(Math.round(nominal / 2));
      expect(backoffSeconds(attempt, 10, 600, () => 0.999999)).toBe(Math.round(nominal));
      const r = backoffSeconds(attempt, 10, 600);
      expect(r).toBeGreaterThanOrEqual(nominal / 2 - 0.5);
      expect(r).toBeLessThanOrEqual(nominal);
    }
  });
  it('spreads retries out (jitter) and never exceeds the Queues delay limit', () => {
    const seen = new Set(Array.from({ length: 200 }, () => backoffSeconds(5, 10, 600)));
    expect(seen.size).toBeGreaterThan(20);
    expect(backoffSeconds(50, 1e6, 1e9)).toBe(43_200);
    expect(backoffSeconds(0, 10, 600, () => 0)).toBe(5);
  });
});

describe('FAULT_INJECT', () => {
  it('parses and decides deterministically', () => {
    const f = faultsFrom({ FAULT_INJECT: 'crash_after=3,crash_rate=0.5,crash_attempts=2,dup_send=1' } as never);
    expect(f).toEqual({ crashAfter: 3, crashRate: 0.5, crashAttempts: 2, dupSend: true, throwInvocation: false });
    expect(faultsFrom({} as never).crashAfter).toBeNull();
    expect(shouldCrash(f, 'm1', 3)).toBe(false);
    const hits = Array.from({ length: 1000 }, (_, i) => shouldCrash(f, `m${i}`, 1)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(400);
    expect(hits).toBeLessThan(600);
    expect(unitHash('x')).toBe(unitHash('x'));
  });
});

describe('chunk (queue messages)', () => {
  it('keeps chunks contiguous, at most chunkItems items and under the message size limit', () => {
    const small = Array.from({ length: 45 }, (_, i) => ({ url: `https://x.example.com/${i}.jpg` }));
    expect(chunk(small, 20).map((c) => [c.start, c.items.length])).toEqual([[0, 20], [20, 20], [40, 5]]);
    const big = Array.from({ length: 100 }, (_, i) => ({ id: 'i'.repeat(256), url: `https://x.example.com/${'p'.repeat(2000)}${i}` }));
    const cs = chunk(big, 100);
    expect(cs.length).toBeGreaterThan(2);
    expect(cs.every((c) => JSON.stringify(c.items).length < 100_000)).toBe(true);
    expect(cs.flatMap((c) => c.items)).toEqual(big);
    cs.forEach((c, k) => expect(c.start).toBe(k === 0 ? 0 : cs[k - 1]!.start + cs[k - 1]!.items.length));
  });
});

describe('canonicalJson (Idempotency-Key request hash)', () => {
  it('ignores key order and undefined fields, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' }, u: undefined })).toBe(canonicalJson({ a: { c: 'x', d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});

describe('Standard Webhooks signatures', () => {
  it('verifies its own signatures; rejects tampering, other secrets and stale timestamps', async () => {
    const s = generateSecret();
    const body = '{"urls":["https://x.example.com/a.jpg"]}';
    const h = await signatureHeaders(s, 'msg_1', body, 1_700_000_000);
    expect((await verify(s, h, body, { now: 1_700_000_100 })).ok).toBe(true);
    expect(await verify(s, h, body + ' ', { now: 1_700_000_100 })).toMatchObject({ ok: false, reason: 'invalid-signature' });
    expect(await verify(generateSecret(), h, body, { now: 1_700_000_100 })).toMatchObject({ ok: false, reason: 'invalid-signature' });
    expect(await verify(s, h, body, { now: 1_700_000_301 })).toMatchObject({ ok: false, reason: 'stale' });
    expect(await verify(s, { 'webhook-id': 'msg_1' }, body)).toMatchObject({ ok: false, reason: 'missing-headers' });
    // Key rotation: several signatures, one valid.
    const multi = { ...h, 'webhook-signature': `v1,AAAA ${h['webhook-signature']}` };
    expect((await verify(s, multi, body, { now: 1_700_000_000 })).ok).toBe(true);
  });
  it('matches the Standard Webhooks reference test vector', async () => {
    // From the standard-webhooks spec / reference libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const h = await signatureHeaders(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', body, 1614265330);
    expect(h['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('migrations', () => {
  it('split into statements the tests apply one by one', () => {
    const stmts = sqlStatements(readFileSync(new URL('../../migrations/0001_batches.sql', import.meta.url), 'utf8'));
    expect(stmts.filter((s) => s.startsWith('CREATE TABLE')).length).toBe(5);
    expect(stmts.every((s) => !s.includes('--'))).toBe(true);
  });
});
