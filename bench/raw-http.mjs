// One raw HTTP/1.1 keep-alive connection that sends the same POST again and again, written in one
// packet (as autocannon and wrk write requests) or as headers, then body on the next turn (as
// undici does). Shared by bench/load.mjs and bench/fairness.mjs: the same client both ways shows
// which of the two local workerd serves in arrival order.
import { connect } from 'node:net';

/**
 * `send()` resolves the answer's status; it rejects with a TimeoutError after `timeoutMs` (the
 * socket is dropped and the next send reconnects) or with the socket's error.
 */
export function rawConnection(url, { headers = {}, body, split = false, timeoutMs = 10_000 }) {
  const u = new URL(url);
  const lines = Object.entries({ host: u.host, ...headers, 'content-length': body.length }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = Buffer.from(`POST ${u.pathname}${u.search} HTTP/1.1\r\n${lines}\r\n`);
  const payload = Buffer.from(body);
  let socket = null, buf, waiter = null;
  const open = () => {
    socket = connect(Number(u.port), u.hostname);
    buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || !waiter) return;
      const len = Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const status = Number(buf.subarray(9, 12).toString('latin1'));
      buf = buf.subarray(end + 4 + len);
      const w = waiter; waiter = null; w.resolve(status);
    });
    socket.on('error', (e) => { const w = waiter; waiter = null; socket = null; w?.reject(e); });
  };
  return {
    send: () => new Promise((resolve, reject) => {
      if (!socket) open();
      const s = socket;
      const timer = setTimeout(() => {
        waiter = null; s.destroy(); if (socket === s) socket = null;
        reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
      }, timeoutMs);
      waiter = { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } };
      if (split) { s.write(head); setImmediate(() => s.write(payload)); } else s.write(Buffer.concat([head, payload]));
    }),
    close: () => socket?.destroy(),
  };
}
