// Starts the companion container (container/) as a child process on a free loopback port.
// Shared by tests (test/support/container.ts) and bench/container.mjs.
import { spawn } from 'node:child_process';
import { buildContainer } from '../../container/build.mjs';

export async function startContainer(env = {}) {
  const entry = await buildContainer();
  const proc = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', EXECUTION_PROVIDER: 'cpu', SHUTDOWN_GRACE_MS: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`container did not start: ${log.join('')}`)), 30_000);
    proc.stderr.on('data', (c) => log.push(String(c)));
    proc.stdout.on('data', (c) => {
      log.push(String(c));
      const m = /"msg":"listening","port":(\d+)/.exec(String(c));
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`container exited (${code}): ${log.join('')}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`, proc, log,
    stop: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', () => r()); proc.kill('SIGTERM'); }),
  };
}
