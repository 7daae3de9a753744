import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

/** The binding's period is 10 or 60 s (wrangler.toml [[ratelimits]]): 60 is never too early. */
const RETRY_AFTER_S = 60;

/**
 * Counts one request without a valid key against its client address (cf-connecting-ip), through
 * the Workers Rate Limiting binding, and refuses it with 429 past the limit. Called for the page,
 * public reads, and every presented key not already known to the isolate *before* its KV lookup,
 * so a flood of guessed keys costs no KV reads once its address is over the limit. Without the
 * binding it does nothing; if the binding fails the request is let through and the failure logged
 * (as the per-key limiter does: the limit protects capacity, not secrets).
 */
export async function limitAddress(c: Context<AppEnv>): Promise<void> {
  const limiter = c.env.ANON_RATE_LIMIT;
  if (!limiter) return;
  const address = c.req.header('cf-connecting-ip') ?? 'unknown';
  let ok = true;
  try {
    ok = (await limiter.limit({ key: `ip:${address}` })).success;
  } catch (e) {
    console.error(JSON.stringify({ level: 'error', msg: 'address rate limiter unavailable; request allowed', error: String(e) }));
  }
  if (!ok) {
    throw new ApiError('rate-limited', `Too many requests without a valid API key from this address; retry in ${RETRY_AFTER_S} s, or send a key.`,
      { retry_after: RETRY_AFTER_S }, { 'retry-after': String(RETRY_AFTER_S) });
  }
}
