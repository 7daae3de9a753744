import { DurableObject } from 'cloudflare:workers';
import { take, type BucketState, type Verdict } from './bucket';

/**
 * One Durable Object per API key (idFromName("key:<id>")): a single-threaded, globally unique
 * token bucket, so concurrent requests from many colos share one budget. State lives in memory
 * only: if the object is evicted the bucket starts full again (lenient, never stricter), and no
 * storage write is paid per request.
 */
export class RateLimiter extends DurableObject {
  private state: BucketState | null = null;

  take(perMinute: number, burst: number, cost = 1): Verdict {
    const r = take(this.state, Date.now(), perMinute, burst, cost);
    this.state = r.state;
    return r.verdict;
  }
}
