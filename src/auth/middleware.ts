import type { MiddlewareHandler } from 'hono';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { limitAddress } from '../ratelimit/address';
import { SCOPES, bearerToken, hasScope, lookupKey, toPrincipal, type Scope } from './keys';

/**
 * What a request needs, decided from method + path alone, before any handler runs:
 * - 'read': public when PUBLIC_READS=true, otherwise any valid key;
 * - a scope: a valid key holding that scope (or admin);
 * - 'signature': the route authenticates itself (webhook HMAC), no key;
 * - 'key': anything else, including unknown paths: a valid key, no particular scope
 *   (deny by default: a route added later is never public by accident).
 * `path` is Hono's routing path (c.req.path, percent-decoded the same way the router sees it).
 */
export type Requirement = 'read' | 'signature' | 'key' | Scope;

export function requirementFor(method: string, path: string): Requirement {
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const read = method === 'GET' || method === 'HEAD';
  if (p === '/v1/webhooks/ingest') return 'signature';
  if (p === '/v1/classify') return 'classify';
  if (p === '/v1/embed') return 'embed';
  if (p === '/v1/batches' || p.startsWith('/v1/batches/')) return 'batches';
  if (p === '/v1/admin' || p.startsWith('/v1/admin/')) return 'admin';
  if (p === '/v1/models' || p.startsWith('/v1/models/')) return read ? 'read' : 'admin';
  if (read && (p === '/' || p === '/healthz' || p === '/readyz' || p === '/openapi.json')) return 'read';
  return 'key';
}

const CHALLENGE = 'Bearer realm="edge-vit"';

/**
 * Authentication + authorisation. Sets c.var.principal for the rate limiter and the logs.
 * AUTH_MODE=off skips keys entirely (for deployments behind their own gateway).
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const cfg = configFrom(c.env);
    const need = requirementFor(c.req.method, c.req.path);
    if (need === 'signature') return next();
    if (cfg.authMode === 'off') {
      c.set('principal', { id: 'anonymous', scopes: [...SCOPES], anonymous: true });
      return next();
    }
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (need === 'read' && cfg.publicReads && !token) {
      await limitAddress(c);
      return next();
    }
    if (!token) {
      await limitAddress(c);
      throw new ApiError('unauthorized', header ? 'The Authorization header is not "Bearer <key>".' : 'Send "Authorization: Bearer <key>".', {}, { 'www-authenticate': CHALLENGE });
    }
    if (!c.env.API_KEYS && !c.env.DEV_API_KEY_HASH) {
      console.error(JSON.stringify({ level: 'error', msg: 'AUTH_MODE=keys but neither the API_KEYS KV binding nor DEV_API_KEY_HASH is configured' }));
    }
    const rec = await lookupKey({ kv: c.env.API_KEYS, devKeyHash: c.env.DEV_API_KEY_HASH }, token, () => limitAddress(c));
    if (!rec) {
      throw new ApiError('unauthorized', 'The API key is not valid.', {}, { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` });
    }
    const principal = toPrincipal(rec);
    c.set('principal', principal);
    if (need !== 'read' && need !== 'key' && !hasScope(principal, need)) {
      throw new ApiError('forbidden', `This route needs the "${need}" scope; the key has ${rec.scopes.length ? rec.scopes.map((s) => `"${s}"`).join(', ') : 'none'}.`,
        { required_scope: need }, { 'www-authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${need}"` });
    }
    await next();
  };
}
