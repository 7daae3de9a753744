/**
 * Exponential backoff with "equal jitter": the nominal delay base * 2^(attempt-1), capped at
 * max, of which the upper half is randomised. Retries of many items that failed together (an
 * origin that was down) spread out instead of returning in lock step, and no delay is below
 * half the nominal one (so the backoff still grows).
 */
export function backoffSeconds(attempt: number, baseSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const nominal = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(n - 1, 30));
  const half = nominal / 2;
  // Queues take whole seconds, at most 12 hours (43200 s) of delay.
  return Math.min(43_200, Math.max(0, Math.round(half + random() * half)));
}
