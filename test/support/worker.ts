// Starts the real Worker bundle (dist/, built by test/support/global-setup.ts) in workerd
// through Miniflare, with in-memory R2 seeded from the repo's model folders. Outbound fetches
// from the Worker go to `outbound` (tests answer them on loopback terms and record them), so
// nothing ever leaves this machine.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare, type Request as MfRequest, Response as MfResponse } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
// @ts-ignore: plain ESM helpers shared with the scripts
import { ROOT, discoverModels, publishToBucket } from '../../scripts/lib/local-models.mjs';

export type Outbound = (req: MfRequest) => Promise<MfResponse> | MfResponse;

export interface WorkerOptions {
  vars?: Record<string, string>;
  outbound?: Outbound;
  /** Model ids to seed; default: every model found locally. */
  models?: string[];
}

export async function startWorker(o: WorkerOptions = {}) {
  const dist = join(ROOT, 'dist');
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml'));
  const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm')).map((f) => ({ type: 'CompiledWasm' as const, path: join(dist, f) }));
  const mf = new Miniflare({
    modulesRoot: dist,
    modules: [{ type: 'ESModule', path: join(dist, 'index.js') }, ...wasm],
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    bindings: { ...(workerOptions.bindings as Record<string, string>), ...o.vars },
    r2Buckets: { MODELS: 'edge-vit-models' },
    outboundService: o.outbound ?? (() => new MfResponse('outbound network is disabled in tests', { status: 599 })),
  });
  await mf.ready;
  const bucket = await mf.getR2Bucket('MODELS');
  const models = discoverModels().filter((m: { manifest: { id: string } }) => !o.models || o.models.includes(m.manifest.id));
  await publishToBucket(bucket, models);
  return {
    mf,
    bucket,
    fetch: async (path: string, init?: RequestInit) => {
      // Node's FormData is not Miniflare's: serialise multipart bodies to bytes first.
      if (init?.body instanceof FormData) {
        const encoded = new Request('http://x', { method: 'POST', body: init.body });
        const headers = new Headers(init.headers);
        headers.set('content-type', encoded.headers.get('content-type')!);
        init = { ...init, headers, body: new Uint8Array(await encoded.arrayBuffer()) };
      }
      return mf.dispatchFetch(`http://edge.test${path}`, init as never) as unknown as Promise<Response>;
    },
    dispose: () => mf.dispose(),
  };
}

export type TestWorker = Awaited<ReturnType<typeof startWorker>>;
