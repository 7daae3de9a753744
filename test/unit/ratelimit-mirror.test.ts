// The isolate's mirror of a key's Durable Object bucket (src/ratelimit/mirror.ts): admits from
// local state, and the DO's answers, which count every isolate, pull it down.
import { describe, expect, it } from 'vitest';
import { take, type BucketState } from '../../src/ratelimit/bucket';
import { MirroredBucket } from '../../src/ratelimit/mirror';

/** The DO: one authoritative bucket. */
function durableObject(perMinute: number, burst: number) {
  let state: BucketState | null = null;
  return (now: number) => { const r = take(state, now, perMinute, burst); state = r.state; return r.verdict; };
}

describe('MirroredBucket', () => {
  it('alone, admits exactly what the DO would: burst, then refusals with Retry-After, then refill', () => {
    const doTake = durableObject(6, 2);
    const m = new MirroredBucket(6, 2, doTake(0), 0); // the first request asked the DO
    const second = m.admit(10);
    expect(second.ok).toBe(true);
    m.settle(doTake(10), 20);
    const third = m.admit(30);
    expect(third.ok).toBe(false);
    expect(third.retryAfter).toBe(10); // 6 per minute: one token in 10 s
    expect(m.admit(10_040).ok).toBe(true);
  });

  it("learns other isolates' use from the DO's answers", () => {
    const doTake = durableObject(60, 10);
    const a = new MirroredBucket(60, 10, doTake(0), 0);
    for (let i = 0; i < 8; i++) doTake(1); // another isolate spends 8 of the 9 left
    expect(a.admit(2).ok).toBe(true); // the mirror still thinks 9 are left
    a.settle(doTake(2), 3); // the DO says: 0 left
    const refused = a.admit(4);
    expect(refused.ok).toBe(false);
  });

  it('subtracts its own charges still in flight from what the DO reports', () => {
    const doTake = durableObject(60, 5);
    const m = new MirroredBucket(60, 5, doTake(0), 0); // 4 left
    expect(m.admit(1).ok).toBe(true);
    expect(m.admit(1).ok).toBe(true);
    m.settle(doTake(1), 2); // answer for the first: 3 left at the DO, one of ours still in flight
    expect(m.admit(2).ok).toBe(true);
    expect(m.admit(2).ok).toBe(true);
    expect(m.admit(2).ok).toBe(false); // 3 - 1 in flight - 2 admitted since = 0
  });

  it('keeps admitting from the mirror when the DO cannot be reached', () => {
    const m = new MirroredBucket(60, 3, { ok: true, remaining: 2, retryAfter: 0, limit: 3 }, 0);
    expect(m.admit(1).ok).toBe(true);
    m.settle(null, 2);
    expect(m.admit(3).ok).toBe(true);
    expect(m.admit(3).ok).toBe(false);
  });
});
