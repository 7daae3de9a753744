// Builds the Worker once per test run with wrangler (the same bundler as `wrangler deploy`)
// and registers the shared ImageNet model, so every test runs the real bundle.
import { execFileSync } from 'node:child_process';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';
// @ts-ignore
import { registerSqueezenet } from '../../scripts/seed-local.mjs';

export default async function setup() {
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', 'dist'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  await registerSqueezenet();
}
