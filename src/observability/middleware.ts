import type { MiddlewareHandler } from 'hono';
import { configFrom } from '../config';
import type { AppEnv } from '../env';
import { ApiError, PROBLEM_BASE } from '../errors';
import { serverTimingHeader } from './server-timing';

/** The fields of one request log line (also what the unit tests check). */
export interface RequestLog {
  level: 'info' | 'warn' | 'error';
  msg: 'request';
  ts: string;
  request_id: string | undefined;
  method: string;
  route: string;
  status: number;
  outcome: string;
  key_id: string | null;
  model: string | null;
  duration_ms: number;
  timings_ms?: Record<string, number>;
  bytes_in: number | null;
  colo?: string;
}

/**
 * Bounded-cardinality route name for logs and counters: known routes keep their shape with ids
 * replaced; anything else is "other" (an attacker probing paths cannot explode the dataset).
 */
export function routeName(path: string): string {
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (['/', '/healthz', '/readyz', '/openapi.json', '/v1/classify', '/v1/embed', '/v1/models', '/v1/batches', '/v1/webhooks/ingest'].includes(p)) return p;
  if (/^\/v1\/models\/[^/]+$/.test(p)) return '/v1/models/:id';
  if (/^\/v1\/batches\/[^/]+(\/[a-z]+)?$/.test(p)) return p.replace(/^(\/v1\/batches\/)[^/]+/, '$1:id');
  if (p.startsWith('/v1/admin/')) return '/v1/admin/*';
  if (p.startsWith('/assets/')) return '/assets/*';
  return 'other';
}

const MODEL_ROUTES = new Set(['/v1/classify', '/v1/embed']);

/**
 * One structured JSON log line per request and one Analytics Engine data point, written after
 * the response is built (errors included: Hono has already turned them into problem responses).
 * The route's JSON (model id, pipeline timings) is read from a clone of small success bodies;
 * problem bodies give the outcome type. Logging never fails a request.
 */
export function observe(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const t0 = Date.now();
    const p0 = performance.now();
    await next();
    try {
      const cfg = configFrom(c.env);
      if (c.res.status >= 400) await drainUnread(c.req.raw, Math.max(cfg.maxBodyBytes, cfg.maxJsonBytes));
      const res = c.res;
      const route = routeName(c.req.path);
      const type = res.headers.get('content-type') ?? '';
      let outcome = res.status < 400 ? 'ok' : `http-${res.status}`;
      let model: string | null = new URL(c.req.url).searchParams.get('model');
      let timings: Record<string, number> | undefined;
      if (type.startsWith('application/problem+json')) {
        const body = (await res.clone().json().catch(() => null)) as { type?: string } | null;
        if (body?.type?.startsWith(PROBLEM_BASE)) outcome = body.type.slice(PROBLEM_BASE.length);
      } else if (c.error) {
        outcome = c.error instanceof ApiError ? c.error.type : 'internal-error';
      }
      if (res.status === 200 && MODEL_ROUTES.has(route) && type.startsWith('application/json')) {
        const body = (await res.clone().json().catch(() => null)) as { model?: { id?: string }; timings_ms?: Record<string, number> } | null;
        model = body?.model?.id ?? model;
        timings = body?.timings_ms;
      }
      if (model === null && MODEL_ROUTES.has(route)) model = cfg.defaultModel;
      const principal = c.get('principal');
      const keyId = principal ? principal.id : null;
      const duration = Math.round((performance.now() - p0) * 100) / 100;
      const declared = Number(c.req.header('content-length'));
      const line: RequestLog = {
        level: res.status >= 500 ? 'error' : res.status >= 400 ? 'warn' : 'info',
        msg: 'request',
        ts: new Date(t0).toISOString(),
        request_id: c.get('requestId'),
        method: c.req.method,
        route,
        status: res.status,
        outcome,
        key_id: keyId,
        model: MODEL_ROUTES.has(route) ? model : null,
        duration_ms: duration,
        ...(timings ? { timings_ms: timings } : {}),
        bytes_in: Number.isFinite(declared) && c.req.header('content-length') !== undefined ? declared : null,
        ...(typeof (c.req.raw as { cf?: { colo?: unknown } }).cf?.colo === 'string' ? { colo: (c.req.raw as { cf?: { colo?: string } }).cf!.colo } : {}),
      };
      setServerTiming(res, serverTimingHeader(duration, c.get('serverTiming') ?? [], timings));
      if (cfg.requestLogs) console.log(JSON.stringify(line));
      // Analytics Engine: blobs are the dimensions, doubles the measures; index = key id
      // (sampling is per index). Query e.g. SUM(_sample_interval) GROUP BY blob1, blob2.
      c.env.ANALYTICS?.writeDataPoint({
        indexes: [(keyId ?? 'public').slice(0, 96)],
        blobs: [route, outcome, c.req.method, keyId ?? 'public', line.model ?? '', String(res.status)],
        doubles: [1, duration, res.status, timings?.inference ?? 0, timings?.decode ?? 0],
      });
    } catch (e) {
      console.error(JSON.stringify({ level: 'error', msg: 'request logging failed', error: String(e) }));
    }
  };
}

/** Our own responses have mutable headers; one passed through from a binding (ASSETS) may not. */
function setServerTiming(res: Response, value: string): void {
  try {
    res.headers.set('server-timing', value);
  } catch {
    // Immutable headers: that answer goes without it.
  }
}

/**
 * A request refused before its body was read (401, 403, 429, 413 from Content-Length...) still
 * has the body in flight. Answering and closing then resets the connection under a client that
 * is still sending, and it may never see the answer. Reading and discarding up to `cap` bytes
 * first lets the client receive the problem response; past the cap we stop and let it reset.
 */
export async function drainUnread(req: Request, cap: number): Promise<void> {
  if (!req.body || req.bodyUsed) return;
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > cap) return;
  const reader = req.body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > cap) { await reader.cancel(); return; }
    }
  } catch {
    // The client went away; nothing to do.
  }
}
