/**
 * A first-come-first-served gate for the CPU-bound steps of a request (decode, preprocess,
 * session.run) inside one isolate.
 *
 * An isolate runs one thing at a time anyway, so the gate costs no throughput. What it buys:
 * requests already inside the Worker are served in the order they got there, instead of
 * interleaving at every `await` of the decoders and of onnxruntime-web (a later request's decode
 * slipping between an earlier one's steps), and only one request's decoded pixels are alive at a
 * time, which matters in a 128 MB isolate. I/O (URL fetches, R2 reads, the heavy backend) stays
 * outside.
 *
 * Requests are separate contexts in workerd: a promise one request creates must not be what
 * another waits on (once its creator has answered, workerd cancels what waits on it), and a
 * request with nothing pending in its own context is cancelled as hung. So each waiter makes its
 * own promise and keeps its own timer running, and a release only calls the next waiter's
 * resolve. A woken waiter whose request was cancelled meanwhile never runs; the others' timers
 * (RECHECK_MS) notice the gate is free and go on.
 */
const RECHECK_MS = 50;

/**
 * A macrotask turn before each CPU step lets the runtime take in the requests that arrived while
 * the previous step ran. Without it, local workerd under load serves single-packet requests far
 * out of arrival order (a ten-line Worker: p99 2-15x p50, worse the busier the machine, 1.2-1.4x
 * with yields: bench:fairness; bench:load with autocannon 4.4x -> 2.0x on a quiet machine). It is taken before queueing, in the caller's own
 * code: a timer set in a continuation woken from another request's context was lost with that
 * request and left the waiter hung (seen under bench:load).
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

interface Waiter { ticket: number; wake: () => void }

export class CpuGate {
  private busy = false;
  private since = 0;
  private nextTicket = 0;
  private readonly waiters: Waiter[] = []; // by ticket

  /**
   * `leaseMs`: how long one step may hold the gate before waiters stop waiting for it. A request
   * cancelled while it holds the gate (its client went away) never reaches its `finally`; without
   * a lease that would stop the isolate's gate for good. No CPU step comes near 30 s.
   */
  constructor(private readonly leaseMs = 30_000) {}

  /** Runs `fn` after every task admitted before it has settled (or outlived its lease). */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await yieldToEventLoop();
    const ticket = this.nextTicket++;
    while (this.busy && Date.now() - this.since < this.leaseMs) await this.turn(ticket);
    this.busy = true;
    this.since = Date.now();
    try {
      return await fn();
    } finally {
      this.busy = false;
      this.waiters.shift()?.wake();
    }
  }

  /** Tasks admitted and not yet settled (the running one included). */
  get depth(): number {
    return this.waiters.length + (this.busy ? 1 : 0);
  }

  /**
   * Waits to be woken by a release (in ticket order), or RECHECK_MS, whichever comes first.
   * Protected so that a test can stand in for a request that workerd cancelled while it waited.
   */
  protected turn(ticket: number): Promise<void> {
    return new Promise((resolve) => {
      // The timer is left running after a wake: a request with nothing pending in its own
      // context (no I/O, no timer) is cancelled by workerd as hung while it waits on another's.
      const w: Waiter = { ticket, wake: resolve };
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      }, RECHECK_MS);
      const at = this.waiters.findIndex((x) => x.ticket > ticket);
      this.waiters.splice(at < 0 ? this.waiters.length : at, 0, w);
    });
  }
}

/** The isolate's one gate: every edge request's CPU work goes through it. */
export const isolateCpu = new CpuGate();
