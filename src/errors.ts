import type { Context } from 'hono';

/**
 * Every failure a client can cause or observe, with its HTTP status. The `type` strings are
 * part of the public API (documented in the README): never rename one.
 */
export const PROBLEM_TYPES = {
  'invalid-request': 400,
  'unsupported-media-type': 415,
  'payload-too-large': 413,
  'image-too-large': 413,
  'image-decode-failed': 422,
  'too-many-images': 413,
  'unknown-model': 404,
  'embedding-unsupported': 422,
  'model-unavailable': 503,
  'url-forbidden': 400,
  'url-fetch-failed': 422,
  'not-found': 404,
  'method-not-allowed': 405,
  unauthorized: 401,
  forbidden: 403,
  'rate-limited': 429,
  'internal-error': 500,
  // Batches and webhooks (src/batches/routes.ts, src/batches/webhooks.ts).
  'batch-too-large': 413,
  'idempotency-conflict': 409,
  'invalid-signature': 401,
  'stale-webhook': 401,
  'unknown-batch': 404,
  'batches-unavailable': 503,
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

const TITLES: Record<ProblemType, string> = {
  'invalid-request': 'The request is not valid',
  'unsupported-media-type': 'Unsupported content type',
  'payload-too-large': 'Request body too large',
  'image-too-large': 'Image has too many pixels',
  'image-decode-failed': 'The image could not be decoded',
  'too-many-images': 'Too many images in one request',
  'unknown-model': 'No such model',
  'embedding-unsupported': 'This model has no embedding output',
  'model-unavailable': 'The model cannot be served right now',
  'url-forbidden': 'This URL may not be fetched',
  'url-fetch-failed': 'The image URL could not be fetched',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  unauthorized: 'A valid API key is required',
  forbidden: 'The API key lacks the scope this route needs',
  'rate-limited': 'Too many requests for this API key',
  'internal-error': 'Internal error',
  'batch-too-large': 'Too many items in one batch',
  'idempotency-conflict': 'This Idempotency-Key was used with a different request',
  'invalid-signature': 'The webhook signature is missing or does not match',
  'stale-webhook': 'The webhook timestamp is outside the accepted window',
  'unknown-batch': 'No such batch',
  'batches-unavailable': 'Batches are not available on this deployment',
};

export const PROBLEM_BASE = 'https://edge-vit.dev/problems/';

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(`${type}: ${detail}`);
    this.status = PROBLEM_TYPES[type];
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [k: string]: unknown;
}

export function problemBody(err: ApiError, instance?: string): ProblemBody {
  return {
    type: PROBLEM_BASE + err.type,
    title: TITLES[err.type],
    status: err.status,
    detail: err.detail,
    ...(instance ? { instance } : {}),
    ...err.extra,
  };
}

export function problemResponse(err: ApiError, instance?: string): Response {
  return new Response(JSON.stringify(problemBody(err, instance)), {
    status: err.status,
    headers: { 'content-type': 'application/problem+json', ...err.headers },
  });
}

/** The one place that maps thrown values to responses. Unknown errors never leak internals. */
export function handleError(err: unknown, c: Context): Response {
  const requestId = c.get('requestId' as never) as string | undefined;
  if (err instanceof ApiError) return problemResponse(err, requestId);
  console.error(JSON.stringify({ level: 'error', requestId, message: String(err), stack: (err as Error)?.stack }));
  return problemResponse(new ApiError('internal-error', 'An unexpected error occurred. Quote the request id when reporting it.'), requestId);
}
