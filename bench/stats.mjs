// Small helpers for benchmark tables: medians, percentiles, Markdown tables.
export const median = (xs) => quantile(xs, 0.5);
export const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}
export const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}
/** Peak and current RSS (MiB) of the workerd processes under this process. */
import { readFileSync, readdirSync } from 'node:fs';
export function workerdMemory() {
  let peak = 0, rss = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('workerd')) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)[1]);
      if (ppid !== process.pid) continue;
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
    } catch { /* process went away */ }
  }
  return { peak, rss };
}
