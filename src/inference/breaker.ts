/**
 * A per-isolate circuit breaker: after `threshold` consecutive failures the circuit opens for
 * `cooldownMs`; then one trial call is let through (half-open) and its outcome closes or
 * re-opens it. Keeps a dead container from costing every request a timeout.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trial = false;
  constructor(private readonly threshold: number, private readonly cooldownMs: number, private readonly now = () => Date.now()) {}

  /** Milliseconds until a call may be tried, 0 when it may be tried now. */
  retryAfterMs(): number {
    if (this.failures < this.threshold) return 0;
    const left = this.openedAt + this.cooldownMs - this.now();
    if (left > 0) return left;
    if (this.trial) return 1000; // a trial call is already in flight
    return 0;
  }

  /** Call before an attempt; false when the circuit is open. */
  allow(): boolean {
    if (this.retryAfterMs() > 0) return false;
    if (this.failures >= this.threshold) this.trial = true;
    return true;
  }

  success(): void { this.failures = 0; this.trial = false; }

  failure(): void {
    this.failures++;
    this.trial = false;
    if (this.failures >= this.threshold) this.openedAt = this.now();
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.retryAfterMs() > 0 ? 'open' : 'half-open';
  }
}
