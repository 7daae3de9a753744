// Runs the built Worker (dist/, from `wrangler deploy --dry-run`) in workerd through
// Miniflare, with R2 seeded from the repo's model folders. Shared by tests and benchmarks.
// Outbound fetches from the Worker go to `outbound` (default: refused), never the network.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare, Response as MfResponse } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { MODEL_DIRS, ROOT, discoverModels, publishToBucket } from './local-models.mjs';
import { WEB_DIR } from '../build-web.mjs';
import { DEV_API_KEY, DEV_KEY_ID, SCOPES, seedKeys } from '../keys.mjs';

export function buildWorker() {
  // The page (static assets, wrangler.toml [assets]) first: wrangler checks that the folder exists.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', 'dist'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function assetsOption(o, workerOptions) {
  const want = o.assets ?? o.web;
  if (want === false) return {};
  const directory = typeof want === 'string' ? want : want ? WEB_DIR : workerOptions.assets?.directory;
  if (!directory) return {};
  return {
    assets: {
      ...workerOptions.assets,
      directory,
      routerConfig: { has_user_worker: true, ...workerOptions.assets?.routerConfig },
      assetConfig: { html_handling: 'auto-trailing-slash', not_found_handling: 'none', ...workerOptions.assets?.assetConfig },
    },
  };
}

/**
 * Runs idempotent writes through Miniflare's binding proxy, again if its synchronous fetcher
 * trips its own `message.id === id` assertion: under load its worker thread's reply can miss the
 * wait it answers (seen once in CI, seeding keys; a late reply is drained by the next call, so
 * three tries suffice). Any other error, or a third assertion, is thrown.
 */
async function throughProxy(write) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (e?.code !== 'ERR_ASSERTION' || attempt === 3) throw e;
    }
  }
}

export async function startWorker(o = {}) {
  const dist = join(ROOT, 'dist');
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml'));
  const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm')).map((f) => ({ type: 'CompiledWasm', path: join(dist, f) }));
  const mf = new Miniflare({
    modulesRoot: dist,
    modules: [{ type: 'ESModule', path: join(dist, 'index.js') }, ...wasm],
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    // Request log lines off unless asked for (vars: { REQUEST_LOGS: 'true' }): they would drown test output.
    bindings: { ...workerOptions.bindings, REQUEST_LOGS: 'false', ...o.vars },
    r2Buckets: { MODELS: 'edge-vit-models' },
    outboundService: o.outbound ?? (() => new MfResponse('outbound network is disabled here', { status: 599 })),
    ...(o.port !== undefined ? { port: o.port, host: '127.0.0.1' } : {}),
    // Static assets in front of the Worker, as on Cloudflare (the page at /, scripts/build-web.mjs):
    // o.assets (true: the built page; or a folder), else wrangler.toml's [assets] if it has one.
    ...assetsOption(o, workerOptions),
    ...o.miniflare,
    // API keys, per-key rate limiter and counters (src/auth, src/ratelimit, src/observability);
    // merged so that o.miniflare can add namespaces of its own.
    kvNamespaces: { API_KEYS: 'api-keys', ...o.miniflare?.kvNamespaces },
    durableObjects: { RATE_LIMITER: { className: 'RateLimiter', useSQLite: true }, ...o.miniflare?.durableObjects },
    analyticsEngineDatasets: { ANALYTICS: { dataset: 'edge_vit_requests' }, ...o.miniflare?.analyticsEngineDatasets },
    // Every test client is 127.0.0.1: the per-address limit for keyless requests (wrangler.toml
    // [[ratelimits]]) is lifted, as the dev key's bucket is, unless a test sets its own.
    ratelimits: { ANON_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } }, ...o.miniflare?.ratelimits },
  });
  const url = await mf.ready;
  const bucket = await mf.getR2Bucket('MODELS');
  // o.modelDirs: extra folders laid out like models/ (e.g. a test's temporary manifests).
  const models = discoverModels([...MODEL_DIRS, ...(o.modelDirs ?? [])]).filter((m) => !o.models || o.models.includes(m.manifest.id));
  await throughProxy(() => publishToBucket(bucket, models));
  // The dev key (all scopes; a bucket large enough that no suite meets it) plus o.keys.
  const keys = await mf.getKVNamespace('API_KEYS');
  await throughProxy(() => seedKeys(keys, [{ key: DEV_API_KEY, id: DEV_KEY_ID, scopes: SCOPES, rate_limit: { per_minute: 1e6, burst: 1e5 } }, ...(o.keys ?? [])]));
  return {
    mf,
    bucket,
    url,
    keys,
    // Sends "authorization: Bearer <dev key>" unless init has its own authorization header or auth: false.
    fetch: async (path, init) => {
      if (init?.auth === false || !new Headers(init?.headers).has('authorization')) {
        const { auth, ...rest } = init ?? {};
        const headers = new Headers(rest.headers);
        if (auth !== false) headers.set('authorization', `Bearer ${DEV_API_KEY}`);
        init = { ...rest, headers };
      }
      // Node's FormData is not Miniflare's: serialise multipart bodies to bytes first.
      if (init?.body instanceof FormData) {
        const encoded = new Request('http://x', { method: 'POST', body: init.body });
        const headers = new Headers(init.headers);
        headers.set('content-type', encoded.headers.get('content-type'));
        init = { ...init, headers, body: new Uint8Array(await encoded.arrayBuffer()) };
      }
      return mf.dispatchFetch(`http://edge.test${path}`, init);
    },
    dispose: () => mf.dispose(),
  };
}
