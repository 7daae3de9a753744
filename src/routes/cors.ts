/**
 * CORS for browser clients on other origins (wrangler.toml CORS_ALLOW_ORIGINS).
 *
 * Keys travel in the Authorization header, never in cookies, so no origin can make a browser
 * spend a key it was not given: "*" is safe and is the default; credentials are never allowed.
 * It runs before authentication, so preflights (which carry no key) are answered here, and its
 * headers reach every answer of the API, problem responses included. The page at / is
 * same-origin and is served before this.
 */
import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { configFrom } from '../config';

const ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key'];
/** Headers a page may read: the request id for support, timings, and the rate-limit state. */
const EXPOSE_HEADERS = ['x-request-id', 'server-timing', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'idempotent-replayed', 'location'];

const corsFor = (allowed: string[]) => cors({
  origin: allowed.includes('*') ? '*' : allowed,
  allowMethods: ['GET', 'HEAD', 'POST'],
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: 600,
});

export function corsPolicy(): MiddlewareHandler<AppEnv> {
  let built: { key: string; handler: MiddlewareHandler } | null = null; // per isolate: env is fixed
  return async (c, next) => {
    const allowed = configFrom(c.env).corsAllowOrigins;
    // An OPTIONS that is not a preflight is an ordinary request (a key, then 404/405).
    const notPreflight = c.req.method === 'OPTIONS' && !c.req.header('access-control-request-method');
    if (allowed.length === 0 || notPreflight) return next();
    const key = allowed.join(',');
    if (built?.key !== key) built = { key, handler: corsFor(allowed) };
    const preflightAnswer = await built.handler(c, next);
    // Server-Timing is exposed to fetch(); the Resource Timing API also needs this header to
    // show a page the same stages, for the same origins.
    const origin = c.res.headers.get('access-control-allow-origin');
    if (!preflightAnswer && origin) c.res.headers.set('timing-allow-origin', origin);
    return preflightAnswer;
  };
}
