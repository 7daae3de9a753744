import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/**
 * `Server-Timing` (W3C) on every answer: where the Worker spent a request's time, readable in
 * browser devtools and by clients (bench/edge.mjs splits the end-to-end latency with it).
 * Entries are milliseconds from the isolate's `performance.now()`, which workerd coarsens (to
 * 1 ms locally), so single values of small stages read 0 or 1: average many requests.
 */

/** Time a middleware spent before it handed on (a refusal, thrown before `next`, records nothing). */
export function timed(name: string, mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const t = performance.now();
    return mw(c, () => {
      recordTiming(c, name, performance.now() - t);
      return next();
    });
  };
}

export function recordTiming(c: Context<AppEnv>, name: string, ms: number): void {
  const list = c.get('serverTiming') ?? [];
  list.push([name, ms]);
  c.set('serverTiming', list);
}

/** `app` = the whole request in the Worker; then the recorded stages and the pipeline's timings_ms. */
export function serverTimingHeader(appMs: number, stages: Array<[string, number]>, pipeline?: Record<string, number>): string {
  const entries: Array<[string, number]> = [['app', appMs], ...stages];
  for (const [k, v] of Object.entries(pipeline ?? {})) if (typeof v === 'number') entries.push([k === 'total' ? 'pipeline' : k, v]);
  return entries.map(([k, v]) => `${k};dur=${Math.round(v * 100) / 100}`).join(', ');
}
