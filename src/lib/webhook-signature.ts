/**
 * Standard Webhooks (https://www.standardwebhooks.com/) signing and verification, HMAC-SHA256.
 *
 *   webhook-id:        a unique message id, the same on every retry of one message
 *   webhook-timestamp: integer seconds since the epoch of this attempt
 *   webhook-signature: space-separated "v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>"
 *
 * The secret is "whsec_<base64 key bytes>" (the prefix is optional, as in the reference
 * libraries). Only Web Crypto is used, so this file runs in workerd and in Node (the tests'
 * webhook receiver verifies the Worker's callbacks with this same code).
 */

export const SECRET_PREFIX = 'whsec_';
/** How far webhook-timestamp may be from now, either way (the reference libraries use 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export type VerifyFailure = 'missing-headers' | 'invalid-signature' | 'stale';
export type VerifyResult = { ok: true; id: string; timestamp: number } | { ok: false; reason: VerifyFailure; detail: string };

const enc = new TextEncoder();

/** The key bytes of a "whsec_<base64>" secret. Throws on a secret that is not base64. */
export function secretBytes(secret: string): Uint8Array {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = fromBase64(b64);
  if (!bytes || bytes.length === 0) throw new Error('The webhook secret must be "whsec_" followed by base64 key bytes.');
  return bytes;
}

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    k = crypto.subtle.importKey('raw', secretBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    if (keys.size > 16) keys.clear();
    keys.set(secret, k);
  }
  return k;
}

/** Bytes of `${id}.${timestamp}.` followed by the body exactly as sent (no re-encoding of the body). */
function signedContent(id: string, timestamp: number | string, body: string | Uint8Array): Uint8Array {
  const head = enc.encode(`${id}.${timestamp}.`);
  const tail = typeof body === 'string' ? enc.encode(body) : body;
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

async function mac(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), signedContent(id, timestamp, body)));
}

/** "v1,<base64>" for one message. */
export async function sign(secret: string, id: string, timestamp: number, body: string | Uint8Array): Promise<string> {
  return `v1,${toBase64(await mac(secret, id, timestamp, body))}`;
}

/** The three headers for one delivery attempt (timestamp: seconds; default now). */
export async function signatureHeaders(secret: string, id: string, body: string | Uint8Array, timestamp = Math.floor(Date.now() / 1000)): Promise<SignatureHeaders> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': await sign(secret, id, timestamp, body) };
}

type HeaderSource = Headers | { get(name: string): string | null } | Record<string, string | undefined>;
function header(h: HeaderSource, name: string): string | null {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name);
  const rec = h as Record<string, string | undefined>;
  return rec[name] ?? rec[name.toLowerCase()] ?? null;
}

/**
 * Verifies one received message. The signature is checked first (so that an unauthenticated
 * caller learns nothing about timestamps), then the timestamp against `toleranceSeconds`.
 * Every "v1," entry of webhook-signature is tried (senders list several during key rotation);
 * each comparison takes the same time wherever the bytes differ.
 */
export async function verify(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array,
  opts: { now?: number; toleranceSeconds?: number } = {},
): Promise<VerifyResult> {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, reason: 'missing-headers', detail: 'The webhook-id, webhook-timestamp and webhook-signature headers are required.' };
  if (id.length > 256) return { ok: false, reason: 'invalid-signature', detail: 'webhook-id is too long.' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'invalid-signature', detail: 'webhook-timestamp is not an integer number of seconds.' };
  const expected = await mac(secret, id, ts, body);
  let match = false;
  for (const entry of sigs.split(' ').slice(0, 10)) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = fromBase64(entry.slice(comma + 1));
    // No early exit: every listed signature is compared in full.
    if (given && timingSafeEqual(given, expected)) match = true;
  }
  if (!match) return { ok: false, reason: 'invalid-signature', detail: 'No v1 signature in webhook-signature matches the body.' };
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const timestamp = Number(ts);
  if (Math.abs(now - timestamp) > tolerance) {
    return { ok: false, reason: 'stale', detail: `webhook-timestamp is ${now - timestamp} s from now; at most ${tolerance} s is accepted.` };
  }
  return { ok: true, id, timestamp };
}

/** Constant-time equality for byte strings (the length itself is public: 32 bytes for HMAC-SHA256). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** A new random "whsec_" secret (24 bytes, as the reference libraries generate). */
export function generateSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(24)));
}
