import { take, type BucketState, type Verdict } from './bucket';

/**
 * The isolate's copy of one key's token bucket, so that a request need not wait for the Durable
 * Object, whose home may be a continent away. The first request of a key in an isolate asks the
 * DO and seeds the mirror from its answer; later ones are admitted or refused by the mirror, the
 * DO is charged in the background, and each of its answers (which count every isolate's requests)
 * lowers the mirror to what the DO has left, less this isolate's charges still in flight. So an
 * isolate can over-admit only the requests it admits while an answer is on its way.
 */
export class MirroredBucket {
  private state: BucketState;
  private inFlight = 0;

  constructor(readonly perMinute: number, readonly burst: number, seed: Verdict, now: number) {
    this.state = { tokens: seed.ok ? seed.remaining : 0, last: now };
  }

  /** Takes a token from the mirror. When admitted, the caller charges the DO and calls settle(). */
  admit(now: number): Verdict {
    const r = take(this.state, now, this.perMinute, this.burst);
    this.state = r.state;
    if (r.verdict.ok) this.inFlight++;
    return r.verdict;
  }

  /** The DO's verdict for one background charge (null: the DO could not be reached). */
  settle(v: Verdict | null, now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!v) return;
    const refilled = take(this.state, now, this.perMinute, this.burst, 0).state;
    const authoritative = (v.ok ? v.remaining : 0) - this.inFlight;
    this.state = { tokens: Math.min(refilled.tokens, authoritative), last: now };
  }
}
