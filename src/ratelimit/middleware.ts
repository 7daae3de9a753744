import type { MiddlewareHandler } from 'hono';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import type { Verdict } from './bucket';

/**
 * Per-key rate limiting after authentication. Requests without a principal (public reads, the
 * signed webhook) are not counted here. Under AUTH_MODE=off the bucket is per client address
 * (cf-connecting-ip). Without a RATE_LIMITER binding, or with RATE_LIMIT_PER_MINUTE=0, it is off.
 * If the Durable Object cannot be reached the request is let through and the failure logged
 * (availability over strictness: the limit protects capacity, not secrets).
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
    let v: Verdict | null = null;
    try {
      v = await ns.get(ns.idFromName(bucket)).take(perMinute, burst);
    } catch (e) {
      console.error(JSON.stringify({ level: 'error', msg: 'rate limiter unavailable; request allowed', bucket, error: String(e) }));
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
