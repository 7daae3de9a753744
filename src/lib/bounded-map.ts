/**
 * A Map that holds at most `max` entries: setting a new key when full drops the oldest one
 * (insertion order; setting an existing key makes it the newest). For per-isolate caches whose
 * keys come from requests, so that no stream of distinct keys can grow them without bound.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    else if (this.size >= this.max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
