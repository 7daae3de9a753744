import type { Env } from '../env';

/**
 * Deliberate faults for the queue consumer (tests only; FAULT_INJECT is never set in
 * wrangler.toml). Comma-separated key=value pairs:
 *   crash_after=K     a chunk message that is hit records only its first K new items, then throws
 *   crash_rate=P      probability (0..1) that a chunk message is hit; decided by a hash of the
 *                     message id and attempt, so a run is reproducible (default 1)
 *   crash_attempts=A  only attempts <= A are hit (default 1), so a message eventually succeeds
 *   dup_send=1        the producer sends every chunk message twice (duplicate delivery)
 *   throw_invocation=1 queue() throws after handling the first message of an invocation,
 *                     without acking the rest (the runtime redelivers them)
 */
export interface Faults {
  crashAfter: number | null;
  crashRate: number;
  crashAttempts: number;
  dupSend: boolean;
  throwInvocation: boolean;
}

export function faultsFrom(env: Env): Faults {
  const kv = new Map<string, string>();
  for (const part of (env.FAULT_INJECT ?? '').split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k) kv.set(k, v ?? '1');
  }
  const num = (k: string, d: number) => (kv.has(k) && Number.isFinite(Number(kv.get(k))) ? Number(kv.get(k)) : d);
  return {
    crashAfter: kv.has('crash_after') ? num('crash_after', 0) : null,
    crashRate: num('crash_rate', 1),
    crashAttempts: num('crash_attempts', 1),
    dupSend: kv.get('dup_send') === '1',
    throwInvocation: kv.get('throw_invocation') === '1',
  };
}

/** Deterministic pseudo-random in [0,1) from a string (FNV-1a). */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return (h >>> 0) / 2 ** 32;
}

export function shouldCrash(f: Faults, messageId: string, attempt: number): boolean {
  return f.crashAfter !== null && attempt <= f.crashAttempts && unitHash(`${messageId}:${attempt}`) < f.crashRate;
}

export class InjectedFault extends Error {
  constructor(what: string) { super(`injected fault: ${what}`); }
}
