/**
 * Token bucket arithmetic, pure so it can be unit-tested: `burst` tokens at most, refilled at
 * `perMinute` per minute; each request takes `cost`. When refused, `retryAfter` is the whole
 * number of seconds until enough tokens are back (>= 1), for the Retry-After header.
 */
export interface BucketState { tokens: number; last: number }
export interface Verdict { ok: boolean; remaining: number; retryAfter: number; limit: number }

export function take(state: BucketState | null, now: number, perMinute: number, burst: number, cost = 1): { state: BucketState; verdict: Verdict } {
  const rate = perMinute / 60_000; // tokens per ms
  const s = state ?? { tokens: burst, last: now };
  const tokens = Math.min(burst, s.tokens + Math.max(0, now - s.last) * rate);
  if (tokens >= cost) {
    return { state: { tokens: tokens - cost, last: now }, verdict: { ok: true, remaining: Math.floor(tokens - cost), retryAfter: 0, limit: burst } };
  }
  const retryAfter = rate > 0 ? Math.max(1, Math.ceil((cost - tokens) / rate / 1000)) : 60;
  return { state: { tokens, last: now }, verdict: { ok: false, remaining: 0, retryAfter, limit: burst } };
}
