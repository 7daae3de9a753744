import type { Context } from 'hono';
import type { z } from 'zod';
import { parseJsonText } from '../lib/json';
import { readCapped } from '../lib/read-capped';
import { ApiError } from '../errors';
import type { AppEnv } from '../env';
import { invalid } from '../routes/inputs';

/** Reads a JSON body of at most `cap` bytes as text (the webhook signature covers these exact bytes). */
export async function readText(c: Context<AppEnv>, cap: number): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > cap) throw new ApiError('payload-too-large', `The body is ${declared} bytes; the limit is ${cap}.`, { max_bytes: cap });
  const bytes = await readCapped(c.req.raw.body, cap, () => new ApiError('payload-too-large', `The body exceeds ${cap} bytes.`, { max_bytes: cap }));
  return new TextDecoder().decode(bytes);
}

export function parseJson<S extends z.ZodTypeAny>(text: string, schema: S, maxDepth = 32): z.infer<S> {
  const json = parseJsonText(text, maxDepth);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error);
  const meta = (parsed.data as { metadata?: unknown }).metadata;
  if (meta !== undefined && JSON.stringify(meta).length > 16_384) throw new ApiError('invalid-request', 'metadata: at most 16 KB of JSON.');
  return parsed.data;
}
