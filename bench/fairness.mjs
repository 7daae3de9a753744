#!/usr/bin/env node
// npm run bench:fairness [-- --duration 10 --spin 1250000]
// Is the load tail of `npm run bench:load` (SECURITY.md#load) ours or local workerd's? A ten-line
// Worker with none of this project's code (read the body, spin a CPU loop, answer) under the
// same raw keep-alive clients: each request in one packet (as autocannon and wrk write it) or
// headers then body (as undici does), through Miniflare's entry worker or straight to workerd's
// socket (unsafeDirectSockets). Closed loop, one request in flight per connection.
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { rawConnection } from './raw-http.mjs';
import { fmt, quantile, table } from './stats.mjs';

const { values: a } = parseArgs({ options: { duration: { type: 'string', default: '10' }, spin: { type: 'string', default: '1250000' } } });
const duration = Number(a.duration) * 1000, spin = Number(a.spin);
const TIMEOUT_MS = 5000;

// yielding: the same work in five chunks with a macrotask turn before each, as the Worker's CPU
// gate does (src/inference/cpu-gate.ts).
const script = (yielding) => `export default { async fetch(req) {
  const n = (await req.arrayBuffer()).byteLength;
  let x = 0;
  for (let k = 0; k < 5; k++) {
    ${yielding ? 'await new Promise((r) => setTimeout(r, 0));' : ''}
    for (let i = 0; i < ${spin} / 5; i++) x += Math.sqrt(i);
  }
  return Response.json({ n, x });
} };`;

async function run({ direct, split, connections, yielding = false }) {
  const mf = new Miniflare({ modules: true, script: script(yielding), compatibilityDate: '2026-04-01', port: 0, host: '127.0.0.1', ...(direct ? { unsafeDirectSockets: [{ port: 0 }] } : {}) });
  try {
    const url = direct ? await mf.unsafeGetDirectURL() : await mf.ready;
    const body = Buffer.alloc(1200, 7); // about a CIFAR-10 JPEG
    const lat = []; let timeouts = 0;
    const end = Date.now() + duration;
    await Promise.all(Array.from({ length: connections }, async () => {
      const conn = rawConnection(url, { headers: { 'content-type': 'image/jpeg' }, body, split, timeoutMs: TIMEOUT_MS });
      while (Date.now() < end) {
        const t = performance.now();
        try {
          await conn.send();
          lat.push(performance.now() - t);
        } catch {
          timeouts++;
        }
      }
      conn.close();
    }));
    return [direct ? 'workerd socket (direct)' : "Miniflare's entry worker", split ? 'headers, then body' : 'one packet', yielding ? 'yes' : 'no', connections,
      lat.length, fmt(lat.length / (duration / 1000)), fmt(quantile(lat, 0.5)), fmt(quantile(lat, 0.99)), fmt(Math.max(...lat), 0), fmt(quantile(lat, 0.99) / quantile(lat, 0.5), 2), timeouts];
  } finally {
    await mf.dispose();
  }
}

const rows = [];
for (const c of [
  { direct: false, split: false, connections: 8 }, { direct: false, split: true, connections: 8 },
  { direct: true, split: false, connections: 8 }, { direct: true, split: true, connections: 8 },
  { direct: true, split: false, connections: 2 },
  { direct: false, split: false, connections: 8, yielding: true }, { direct: true, split: false, connections: 8, yielding: true },
]) rows.push(await run(c));
console.log(`\nA minimal Worker (read the body, ${spin} square roots, answer) in local workerd, ${a.duration} s per row, closed loop, ms`);
console.log('The CPU per request is about 1 / (req/s) of the one-packet rows: they keep the isolate busy.\n');
console.log(table(['entry', 'request written as', 'yields', 'connections', 'requests', 'req/s', 'p50', 'p99', 'max', 'p99/p50', `unanswered after ${TIMEOUT_MS / 1000} s`], rows));
