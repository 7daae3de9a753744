// Typed wrapper over scripts/lib/worker-host.mjs: the real Worker bundle in workerd via
// Miniflare, with in-memory R2 seeded from the repo's model folders. Outbound fetches from
// the Worker go to `outbound` (tests answer and record them), so nothing leaves this machine.
import type { Miniflare, Request as MfRequest, Response as MfResponse, R2Bucket } from 'miniflare';
// @ts-ignore: plain ESM helper shared with the benchmarks
import { startWorker as start } from '../../scripts/lib/worker-host.mjs';

export type Outbound = (req: MfRequest) => Promise<MfResponse> | MfResponse | Promise<Response> | Response;

export interface WorkerOptions {
  vars?: Record<string, string>;
  outbound?: Outbound;
  /** Model ids to seed; default: every model found locally. */
  models?: string[];
  /** Serve static assets in front of the Worker, as wrangler.toml [assets] does: true = the page
   * built by scripts/build-web.mjs (.cache/web/, built by the global setup), or a folder.
   * Default: wrangler.toml's [assets] when it has one. */
  assets?: boolean | string;
  /** @deprecated alias of `assets: true`. */
  web?: boolean;
  /** Extra folders laid out like models/ to seed from (after models/ and .cache/models/). */
  modelDirs?: string[];
  /** Listen on 127.0.0.1:port (0 = any free port) for clients outside Miniflare. */
  port?: number;
  /** Extra Miniflare options (D1, Queues, KV, Durable Objects...). */
  miniflare?: Record<string, unknown>;
  /** Extra API keys to seed (the dev key is always seeded, all scopes). */
  keys?: Array<{ key: string; id: string; scopes: string[]; rate_limit?: { per_minute: number; burst: number } }>;
}

export interface TestWorker {
  mf: Miniflare;
  bucket: R2Bucket;
  url: URL;
  /** The API_KEYS namespace (keys are stored as "sha256:<hex>"). */
  keys: Awaited<ReturnType<Miniflare['getKVNamespace']>>;
  /** Adds `authorization: Bearer <DEV_API_KEY>` unless init has its own authorization header or `auth: false`. */
  fetch(path: string, init?: RequestInit & { auth?: boolean }): Promise<Response>;
  dispose(): Promise<void>;
}

export const startWorker = (o: WorkerOptions = {}): Promise<TestWorker> => start(o);

/** The documented local development key (scripts/keys.mjs): seeded into every test worker's KV. */
export const DEV_API_KEY = 'edge-vit-dev-key';
