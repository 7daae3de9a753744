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
  /** Listen on 127.0.0.1:port (0 = any free port) for clients outside Miniflare. */
  port?: number;
  /** Extra Miniflare options (D1, Queues, KV, Durable Objects...). */
  miniflare?: Record<string, unknown>;
}

export interface TestWorker {
  mf: Miniflare;
  bucket: R2Bucket;
  url: URL;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export const startWorker = (o: WorkerOptions = {}): Promise<TestWorker> => start(o);
