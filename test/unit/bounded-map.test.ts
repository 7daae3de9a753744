import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/lib/bounded-map';

describe('BoundedMap', () => {
  it('drops the oldest entry when a new key would pass the bound', () => {
    const m = new BoundedMap<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) m.set(k, i);
    expect([...m.keys()]).toEqual(['b', 'c', 'd']);
  });
  it('setting an existing key refreshes it instead of dropping another', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...m.entries()]).toEqual([['a', 3], ['c', 4]]);
  });
});
