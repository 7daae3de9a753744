import { describe, expect, it } from 'vitest';
import { CpuGate } from '../../src/inference/cpu-gate';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('CpuGate', () => {
  it('runs tasks one at a time, in the order they were admitted, whatever their awaits', async () => {
    const gate = new CpuGate();
    const log: string[] = [];
    let running = 0, most = 0;
    const task = (name: string, awaits: number) => gate.run(async () => {
      running++; most = Math.max(most, running);
      log.push(`${name}:start`);
      for (let i = 0; i < awaits; i++) await tick();
      log.push(`${name}:end`);
      running--;
      return name;
    });
    const results = await Promise.all([task('a', 3), task('b', 0), task('c', 1)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(most).toBe(1);
    expect(gate.depth).toBe(0);
  });

  it('a failing task rejects its own caller only and does not block the next', async () => {
    const gate = new CpuGate();
    const failed = gate.run(async () => { await tick(); throw new Error('decode failed'); });
    const next = gate.run(() => 'served');
    await expect(failed).rejects.toThrow('decode failed');
    await expect(next).resolves.toBe('served');
  });

  it('a waiter woken but never run (its request was cancelled) does not stall the rest', async () => {
    // What a cancelled request looks like from the gate: it queued a real waiter (and its timer),
    // is woken by the release, and its continuation never runs again.
    class GateWithCancelledRequest extends CpuGate {
      constructor(private readonly cancelled: number) { super(); }
      protected override turn(ticket: number): Promise<void> {
        const queued = super.turn(ticket);
        return ticket === this.cancelled ? new Promise(() => {}) : queued;
      }
    }
    const gate = new GateWithCancelledRequest(1);
    const first = gate.run(async () => { await tick(); await tick(); return 'first'; });
    let cancelledRan = false;
    void gate.run(() => { cancelledRan = true; });
    const t = performance.now();
    const third = gate.run(() => 'third');
    await expect(first).resolves.toBe('first');
    await expect(third).resolves.toBe('third');
    expect(cancelledRan).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(gate.depth).toBe(0);
  });

  it('a task that never settles (its request was cancelled while running) holds the gate only for its lease', async () => {
    const gate = new CpuGate(200);
    void gate.run(() => new Promise(() => {}));
    const t = performance.now();
    await expect(gate.run(() => 'next')).resolves.toBe('next');
    expect(performance.now() - t).toBeGreaterThanOrEqual(150);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
