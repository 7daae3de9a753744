// Reads a Server-Timing header ("app;dur=12.5, auth;dur=0") into { app: 12.5, auth: 0 }
// (tests and `npm run bench`; the Worker writes it in src/observability/server-timing.ts).
export const parseServerTiming = (header) =>
  Object.fromEntries((header ?? '').split(', ').filter(Boolean).map((e) => e.split(';dur=')).map(([k, v]) => [k, Number(v)]));
