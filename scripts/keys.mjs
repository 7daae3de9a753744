#!/usr/bin/env node
// API key management. A key is printed ONCE; only its SHA-256 hash is stored, in the API_KEYS
// KV namespace: "sha256:<hex>" -> {"id","scopes","created"[,"rate_limit"]}.
//
//   node scripts/keys.mjs create --id alice --scopes classify,embed [--rate 600/120] [--remote]
//   node scripts/keys.mjs list   [--remote]
//   node scripts/keys.mjs revoke --id alice [--remote]
//   node scripts/keys.mjs hash <key>          # the hash alone (e.g. for DEV_API_KEY_HASH in .dev.vars)
//
// Default target: the local KV that `wrangler dev` reads (.wrangler/state/v3/kv, namespace as
// wrangler.toml binds it). --remote: the deployed namespace, through `wrangler kv` (your login).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/local-models.mjs';

export const SCOPES = ['classify', 'embed', 'batches', 'admin'];
export const KV_PREFIX = 'sha256:';
/** The documented local development key: seeded into LOCAL KV only (npm run seed, tests). */
export const DEV_API_KEY = 'edge-vit-dev-key';
export const DEV_KEY_ID = 'dev';
export const KV_PERSIST = join(ROOT, '.wrangler', 'state', 'v3', 'kv');

export const hashKey = (key) => createHash('sha256').update(key, 'utf8').digest('hex');
/** 256 random bits, URL-safe; the prefix makes leaked keys easy to grep for. */
export const newKey = () => `evk_${randomBytes(32).toString('base64url')}`;

export function record({ id, scopes, rate_limit, created = new Date().toISOString() }) {
  if (!id || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error(`bad key id "${id}": 1-64 of A-Z a-z 0-9 . _ -`);
  const bad = scopes.filter((s) => !SCOPES.includes(s));
  if (bad.length) throw new Error(`unknown scope(s) ${bad.join(', ')}; known: ${SCOPES.join(', ')}`);
  return { id, scopes, created, ...(rate_limit ? { rate_limit } : {}) };
}

/** Writes keys into any KV-like namespace (Miniflare's, in tests): [{key, id, scopes, rate_limit?}]. */
export async function seedKeys(kv, entries) {
  for (const e of entries) await kv.put(KV_PREFIX + hashKey(e.key), JSON.stringify(record(e)));
}

/** The local namespace id exactly as `wrangler dev` derives it from wrangler.toml. */
async function localNamespaceId() {
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
  const ns = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml')).workerOptions.kvNamespaces?.API_KEYS;
  if (!ns) throw new Error('wrangler.toml has no kv_namespaces binding "API_KEYS"');
  return typeof ns === 'string' ? ns : ns.id;
}

/** Runs fn(kv) against the persistent local KV that `wrangler dev` uses. */
export async function withLocalKv(fn) {
  const { Miniflare } = await import('miniflare');
  const mf = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null) } }', kvNamespaces: { API_KEYS: await localNamespaceId() }, kvPersist: KV_PERSIST });
  try {
    return await fn(await mf.getKVNamespace('API_KEYS'));
  } finally {
    await mf.dispose();
  }
}

/** npm run seed: the dev key, all scopes, default rate limit, local KV only. */
export async function seedDevKeyLocal() {
  await withLocalKv((kv) => seedKeys(kv, [{ key: DEV_API_KEY, id: DEV_KEY_ID, scopes: SCOPES }]));
  return DEV_API_KEY;
}

function wranglerKv(args) {
  return execFileSync('npx', ['wrangler', 'kv', ...args, '--binding', 'API_KEYS', '--remote'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

async function listAll(remote) {
  if (remote) {
    const keys = JSON.parse(wranglerKv(['key', 'list', '--prefix', KV_PREFIX]));
    return keys.map((k) => ({ name: k.name, rec: JSON.parse(wranglerKv(['key', 'get', k.name, '--text'])) }));
  }
  return withLocalKv(async (kv) => {
    const out = [];
    let cursor;
    do {
      const page = await kv.list({ prefix: KV_PREFIX, cursor });
      for (const k of page.keys) out.push({ name: k.name, rec: JSON.parse(await kv.get(k.name)) });
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return out;
  });
}

function parseArgs(argv) {
  const o = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--remote') o.remote = true;
    else if (a.startsWith('--')) o[a.slice(2)] = argv[++i];
    else o._.push(a);
  }
  return o;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const o = parseArgs(rest);
  if (cmd === 'hash') {
    if (!o._[0]) throw new Error('usage: keys.mjs hash <key>');
    console.log(hashKey(o._[0]));
  } else if (cmd === 'create') {
    const scopes = (o.scopes ?? 'classify').split(',').map((s) => s.trim()).filter(Boolean);
    let rate_limit;
    if (o.rate) {
      const m = /^(\d+)\/(\d+)$/.exec(o.rate);
      if (!m) throw new Error('--rate is PER_MINUTE/BURST, e.g. 600/120');
      rate_limit = { per_minute: Number(m[1]), burst: Math.max(1, Number(m[2])) };
    }
    const rec = record({ id: o.id, scopes, rate_limit });
    const existing = await listAll(o.remote);
    if (existing.some((e) => e.rec?.id === rec.id)) throw new Error(`a key with id "${rec.id}" exists; revoke it first or pick another id`);
    const key = newKey();
    const name = KV_PREFIX + hashKey(key);
    if (o.remote) wranglerKv(['key', 'put', name, JSON.stringify(rec)]);
    else await withLocalKv((kv) => kv.put(name, JSON.stringify(rec)));
    console.error(`stored ${name.slice(0, 19)}… -> ${JSON.stringify(rec)} in ${o.remote ? 'the deployed' : 'the local'} API_KEYS namespace`);
    console.error('The key is shown once and cannot be recovered (only its hash is stored):');
    console.log(key);
  } else if (cmd === 'list') {
    for (const { name, rec } of await listAll(o.remote)) console.log(`${rec.id}\t${rec.scopes.join(',')}\t${rec.created}\t${name.slice(0, 19)}…`);
  } else if (cmd === 'revoke') {
    if (!o.id) throw new Error('usage: keys.mjs revoke --id <id>');
    const hits = (await listAll(o.remote)).filter((e) => e.rec?.id === o.id);
    if (!hits.length) throw new Error(`no key with id "${o.id}"`);
    for (const h of hits) {
      if (o.remote) wranglerKv(['key', 'delete', h.name]);
      else await withLocalKv((kv) => kv.delete(h.name));
    }
    console.error(`revoked ${hits.length} key(s) with id "${o.id}" (cached copies expire within ~90 s)`);
  } else {
    console.error('usage: keys.mjs create --id ID --scopes classify,embed,batches,admin [--rate 600/120] [--remote] | list | revoke --id ID | hash KEY');
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => { console.error(`keys: ${e.message}`); process.exit(1); });
}
