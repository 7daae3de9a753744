/**
 * API keys. A key is a random secret shown once to its owner; the Worker only ever stores and
 * sees its SHA-256 hash. Keys are 256-bit random strings (scripts/keys.mjs), not passwords, so
 * a fast hash is enough: there is nothing to brute-force from the hash.
 *
 * KV layout (binding API_KEYS): key "sha256:<64 hex>" -> {"id","scopes","created"[,"rate_limit"]}.
 */
import { BoundedMap } from '../lib/bounded-map';

export const SCOPES = ['classify', 'embed', 'batches', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface KeyRecord {
  id: string;
  scopes: Scope[];
  created: string;
  /** Optional per-key override of the default token bucket. */
  rate_limit?: { per_minute: number; burst: number };
}

/** Who is calling, as far as the rest of the Worker is concerned. */
export interface Principal {
  id: string;
  scopes: Scope[];
  /** true under AUTH_MODE=off: no key was checked, limits are per client address. */
  anonymous?: boolean;
  rateLimit?: { perMinute: number; burst: number };
}

export const KV_PREFIX = 'sha256:';
/** The documented local development key (scripts/seed-local.mjs, test/support/worker.ts). Never valid in production KV. */
export const DEV_API_KEY = 'edge-vit-dev-key';

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Constant-time equality of two strings of equal length (hex hashes): the time taken does not
 * depend on where they first differ. Lengths are public (always 64 here).
 */
export function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** `Authorization: Bearer <token>` -> token; null when absent or not a plausible token. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,256})[ \t]*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Validates a KV value; anything malformed is treated as "no such key" (fail closed). */
export function parseRecord(raw: unknown): KeyRecord | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.id !== 'string' || !r.id || !Array.isArray(r.scopes)) return null;
  const scopes = r.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s as string));
  const rl = r.rate_limit as { per_minute?: unknown; burst?: unknown } | undefined;
  const rate_limit = rl && typeof rl.per_minute === 'number' && typeof rl.burst === 'number' && rl.per_minute >= 0 && rl.burst >= 1
    ? { per_minute: rl.per_minute, burst: rl.burst } : undefined;
  return { id: r.id, scopes, created: typeof r.created === 'string' ? r.created : '', ...(rate_limit ? { rate_limit } : {}) };
}

export function toPrincipal(rec: KeyRecord): Principal {
  return {
    id: rec.id,
    scopes: rec.scopes,
    ...(rec.rate_limit ? { rateLimit: { perMinute: rec.rate_limit.per_minute, burst: rec.rate_limit.burst } } : {}),
  };
}

/** admin implies every other scope (it can publish models, so it can also use them). */
export function hasScope(p: Principal, need: Scope): boolean {
  return p.scopes.includes(need) || p.scopes.includes('admin');
}

// A short in-isolate cache of valid keys saves a KV read per request (KV reads are billed and
// add latency). Only hits are cached, so random guesses cannot grow it; it is bounded anyway.
// Revocation takes effect within CACHE_MS here plus KV's own edge cache (cacheTtl below).
const CACHE_MS = 30_000;
const CACHE_MAX = 1000;
const cache = new BoundedMap<string, { rec: KeyRecord; until: number }>(CACHE_MAX);

export interface KeyStore {
  kv?: KVNamespace;
  /** Optional single key configured as a hash in a var (e.g. .dev.vars), compared in constant time. */
  devKeyHash?: string;
}

/**
 * Looks a presented key up by its hash. null: unknown (or malformed record). `beforeRead` runs
 * only when the answer needs a KV read (a key this isolate has not seen valid lately), and may
 * throw to refuse the request first (the per-address limit on unknown keys).
 */
export async function lookupKey(store: KeyStore, token: string, beforeRead?: () => Promise<void>, now = Date.now()): Promise<KeyRecord | null> {
  const hash = await sha256Hex(token);
  if (store.devKeyHash && timingSafeEqualHex(hash, store.devKeyHash.toLowerCase())) {
    return { id: 'dev', scopes: [...SCOPES], created: '' };
  }
  if (!store.kv) return null;
  const hit = cache.get(hash);
  if (hit && hit.until > now) return hit.rec;
  await beforeRead?.();
  // The secret itself is never compared: KV is addressed by its hash, so lookup timing depends
  // only on a one-way function of the key and reveals nothing an attacker can build on.
  const text = await store.kv.get(KV_PREFIX + hash, { type: 'text', cacheTtl: 60 });
  let raw: unknown = null;
  try {
    raw = text === null ? null : JSON.parse(text);
  } catch {
    console.error(JSON.stringify({ level: 'error', msg: 'API_KEYS record is not JSON; treated as no key', key: `${KV_PREFIX}${hash.slice(0, 12)}…` }));
  }
  const rec = parseRecord(raw);
  if (rec) {
    cache.set(hash, { rec, until: now + CACHE_MS });
  } else {
    cache.delete(hash);
  }
  return rec;
}
