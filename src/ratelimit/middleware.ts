import type { Context, MiddlewareHandler } from 'hono';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import type { Verdict } from './bucket';
import { BoundedMap } from '../lib/bounded-map';
import { MirroredBucket } from './mirror';

/** Mirrors per bucket name and parameters; bounded (oldest out) like the key cache. */
const MIRRORS_MAX = 1000;
const mirrors = new BoundedMap<string, MirroredBucket>(MIRRORS_MAX);

/**
 * Per-key rate limiting after authentication. Requests without a principal (public reads, the
 * signed webhook) are not counted here (src/ratelimit/address.ts limits those per address). Under
 * AUTH_MODE=off the bucket is per client address (cf-connecting-ip). Without a RATE_LIMITER
 * binding, or with RATE_LIMIT_PER_MINUTE=0, it is off.
 *
 * The Durable Object holds each key's bucket for every colo; the isolate keeps a mirror of it
 * (src/ratelimit/mirror.ts), so only a key's first request in an isolate waits for the DO and the
 * rest are charged to it in the background (waitUntil). If the DO cannot be reached the request
 * is let through and the failure logged (availability over strictness: the limit protects
 * capacity, not secrets).
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    const ns = c.env.RATE_LIMITER;
    if (!p || !ns) return next();
    const cfg = configFrom(c.env);
    const perMinute = p.rateLimit?.perMinute ?? cfg.rateLimitPerMinute;
    const burst = p.rateLimit?.burst ?? cfg.rateLimitBurst;
    if (perMinute <= 0) return next();
    const bucket = p.anonymous ? `ip:${c.req.header('cf-connecting-ip') ?? 'unknown'}` : `key:${p.id}`;
    const charge = () => ns.get(ns.idFromName(bucket)).take(perMinute, burst).catch((e: unknown) => {
      console.error(JSON.stringify({ level: 'error', msg: 'rate limiter unavailable; request allowed', bucket, error: String(e) }));
      return null;
    });
    const name = `${bucket}|${perMinute}|${burst}`;
    const mirror = mirrors.get(name);
    let v: Verdict | null;
    if (mirror) {
      v = mirror.admit(Date.now());
      if (v.ok) background(c, charge().then((dv) => mirror.settle(dv, Date.now())));
    } else {
      v = await charge();
      if (v) mirrors.set(name, new MirroredBucket(perMinute, burst, v, Date.now()));
    }
    if (v && !v.ok) {
      throw new ApiError('rate-limited', `Rate limit of ${perMinute} requests per minute (burst ${burst}) exceeded; retry in ${v.retryAfter} s.`,
        { retry_after: v.retryAfter, limit_per_minute: perMinute, burst },
        { 'retry-after': String(v.retryAfter), 'ratelimit-limit': String(burst), 'ratelimit-remaining': '0', 'ratelimit-reset': String(v.retryAfter) });
    }
    await next();
    if (v) {
      c.header('ratelimit-limit', String(v.limit));
      c.header('ratelimit-remaining', String(v.remaining));
    }
  };
}

/** Work after the response: waitUntil in a Worker; just a detached promise where there is no context. */
function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work;
  }
}
