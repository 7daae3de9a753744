// lookupKey's contract with the per-address limit: the hook runs only before a KV read, and a
// refusal there means no KV read at all.
import { describe, expect, it } from 'vitest';
import { lookupKey } from '../../src/auth/keys';

async function sha256Hex(s: string) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function fakeKv(records: Record<string, unknown>) {
  const reads: string[] = [];
  const kv = { get: async (key: string) => { reads.push(key); return key in records ? JSON.stringify(records[key]) : null; } };
  return { kv: kv as unknown as KVNamespace, reads };
}

describe('lookupKey and its beforeRead hook', () => {
  it('a refusal in beforeRead stops the lookup before KV is read', async () => {
    const { kv, reads } = fakeKv({});
    await expect(lookupKey({ kv }, 'guessed', async () => { throw new Error('over the limit'); })).rejects.toThrow('over the limit');
    expect(reads).toHaveLength(0);
  });

  it('runs before the first read of a key, not once the isolate has seen it valid', async () => {
    const token = `valid-${Math.random()}`;
    const { kv, reads } = fakeKv({ [`sha256:${await sha256Hex(token)}`]: { id: 'k1', scopes: ['classify'] } });
    let calls = 0;
    const hook = async () => { calls++; };
    expect((await lookupKey({ kv }, token, hook))?.id).toBe('k1');
    expect((await lookupKey({ kv }, token, hook))?.id).toBe('k1');
    expect(calls).toBe(1);
    expect(reads).toHaveLength(1);
    expect(await lookupKey({ kv }, 'unknown', hook)).toBeNull();
    expect(calls).toBe(2);
  });
});
