/**
 * Reads a body stream to the end, but never more than `cap` bytes: past the cap the stream is
 * cancelled and `tooLarge()` thrown, so an oversized body costs at most `cap` bytes of memory
 * whatever its Content-Length said.
 */
export async function readCapped(body: ReadableStream<Uint8Array> | null, cap: number, tooLarge: () => Error): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}
