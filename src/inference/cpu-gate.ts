/**
 * A first-come-first-served gate for the CPU-bound steps of a request (decode, preprocess,
 * session.run) inside one isolate.
 *
 * An isolate runs one thing at a time anyway, so the gate costs no throughput. What it buys:
 * requests already inside the Worker are served in the order they got there, instead of
 * interleaving at every `await` of the decoders and of onnxruntime-web (a later request's decode
 * slipping between an earlier one's steps), and only one request's decoded pixels are alive at a
 * time, which matters in a 128 MB isolate. I/O (URL fetches, R2 reads, the heavy backend) stays
 * outside. It cannot reorder what local workerd does before the Worker's code runs (the
 * single-packet load tail in SECURITY.md#load).
 */
export class CpuGate {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Runs `fn` after every task admitted before it has settled. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    this.waiting++;
    const result = this.tail.then(() => fn());
    this.tail = result.then(() => undefined, () => undefined).finally(() => { this.waiting--; });
    return result;
  }

  /** Tasks admitted and not yet settled (the running one included). */
  get depth(): number {
    return this.waiting;
  }
}

/** The isolate's one gate: every edge request's CPU work goes through it. */
export const isolateCpu = new CpuGate();
