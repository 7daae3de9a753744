import { createHash, createHmac } from 'node:crypto';

/** AWS Signature Version 4 (header form) for S3-compatible stores such as R2's S3 API. */
export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface SignInput {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** Hex sha256 of the body (the empty string's for GET). */
  payloadSha256: string;
  region: string;
  service: string;
  credentials: Credentials;
  now?: Date;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ is percent-encoded. */
export const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The canonical request (S3 flavour: the path is encoded once, segment by segment). */
export function canonicalRequest(method: string, url: URL, headers: Record<string, string>, payloadSha256: string): { text: string; signed: string } {
  const path = url.pathname.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/';
  const query = [...url.searchParams].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const names = Object.keys(headers).sort();
  const text = [method, path, query, names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), payloadSha256].join('\n');
  return { text, signed: names.join(';') };
}

/**
 * The headers to send: x-amz-date, x-amz-content-sha256, (x-amz-security-token), authorization
 * and the caller's own. `host` is signed but not returned: fetch sets it from the URL.
 */
export function signV4(i: SignInput): Record<string, string> {
  const amzDate = (i.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.headers ?? {})) headers[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  headers.host = i.url.host;
  headers['x-amz-date'] = amzDate;
  headers['x-amz-content-sha256'] = i.payloadSha256;
  if (i.credentials.sessionToken) headers['x-amz-security-token'] = i.credentials.sessionToken;
  const { text, signed } = canonicalRequest(i.method, i.url, headers, i.payloadSha256);
  const scope = `${day}/${i.region}/${i.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(text)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${i.credentials.secretAccessKey}`, day), i.region), i.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const { host: _host, ...rest } = headers;
  return { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope},SignedHeaders=${signed},Signature=${signature}` };
}
