import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { limitAddress } from '../ratelimit/address';

/**
 * The web page's paths (scripts/build-web.mjs writes index.html and assets/; html_handling maps
 * / and /index to index.html). wrangler.toml's `run_worker_first` lists the same paths, so the
 * Worker answers them first and hands only these to the ASSETS binding.
 */
export function isPagePath(path: string): boolean {
  return path === '/' || path === '/index' || path === '/index.html' || path.startsWith('/assets/');
}

/**
 * Serves the page through env.ASSETS for GET/HEAD, before authentication (the page is public,
 * its API calls carry the key). Any other method on a page path is a 405 problem. Why the
 * Worker and not the platform's asset layer: that layer answers a non-GET with a plain 405
 * before reading the body and closes the connection, so a client still sending a body saw a
 * reset (found by the request fuzzer; SECURITY.md). Here the 405 is an error like any other, so
 * observe() drains the unread body before answering (test/worker/assets.test.ts sends 4 MB).
 */
export function servePage(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const assets = c.env.ASSETS;
    if (!assets || !isPagePath(c.req.path)) return next();
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      throw new ApiError('method-not-allowed', `${method} is not allowed on the page; it answers GET and HEAD.`, {}, { allow: 'GET, HEAD' });
    }
    await limitAddress(c);
    const res = await assets.fetch(c.req.raw);
    if (res.status === 404) throw new ApiError('not-found', `The page has no file ${c.req.path}.`);
    // The asset binding's headers are immutable; the request-id middleware adds to them.
    return new Response(res.body, res);
  };
}
