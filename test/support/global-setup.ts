// Builds the Worker once per test run with wrangler (the same bundler as `wrangler deploy`)
// and registers the shared ImageNet model, so every test runs the real bundle.
// @ts-ignore
import { buildWorker } from '../../scripts/lib/worker-host.mjs';
// @ts-ignore
import { registerSqueezenet } from '../../scripts/seed-local.mjs';

export default async function setup() {
  buildWorker();
  await registerSqueezenet();
}
