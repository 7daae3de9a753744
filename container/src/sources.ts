import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Manifest } from './manifest';
import { EMPTY_SHA256, signV4, uriEncode, type Credentials } from './sigv4';

/**
 * Where manifests and weights come from. Both sources use the R2 bucket's layout
 * (docs/manifest.md): `models/<id>/manifest.json`, and the ONNX at the manifest's `onnx.key`.
 * Sources only fetch bytes; ModelStore checks the manifest and the weights' sha256.
 */
export interface ModelSource {
  readonly label: string;
  /** Model ids this source holds (for the start-up log and the repository index). */
  list(): Promise<string[]>;
  /** The raw manifest JSON of `id`, or null when this source does not have it. */
  manifest(id: string): Promise<unknown | null>;
  /** The ONNX bytes of a manifest this source returned, or null when they are missing. */
  weights(m: Manifest): Promise<Uint8Array | null>;
}

/** A local folder of `<id>/manifest.json` + `<id>/<basename of onnx.key>` (models/, .cache/models/). */
export class DirSource implements ModelSource {
  readonly label: string;
  constructor(private readonly dir: string) { this.label = `dir:${dir}`; }

  async list(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir)).filter((id) => existsSync(join(this.dir, id, 'manifest.json'))).sort();
  }

  async manifest(id: string): Promise<unknown | null> {
    const file = join(this.dir, id, 'manifest.json');
    return existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : null;
  }

  async weights(m: Manifest): Promise<Uint8Array | null> {
    const file = join(this.dir, m.id, basename(m.onnx.key));
    return existsSync(file) ? new Uint8Array(await readFile(file)) : null;
  }
}

export interface S3Options {
  /** e.g. https://<account_id>.r2.cloudflarestorage.com (path-style requests: <endpoint>/<bucket>/<key>). */
  endpoint: string;
  bucket: string;
  /** R2: "auto". */
  region: string;
  credentials: Credentials;
  /** Key prefix of the model folders, "models/" as in the Worker's bucket. */
  prefix: string;
  timeoutMs: number;
}

/** The Worker's R2 bucket through R2's S3 API (or any S3-compatible store), signed with SigV4. */
export class S3Source implements ModelSource {
  readonly label: string;
  constructor(private readonly o: S3Options) { this.label = `s3:${o.endpoint}/${o.bucket}/${o.prefix}`; }

  private url(key: string, query: Record<string, string> = {}): URL {
    const u = new URL(`${this.o.endpoint.replace(/\/$/, '')}/${uriEncode(this.o.bucket)}/${key.split('/').map(uriEncode).join('/')}`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u;
  }

  private async get(url: URL): Promise<Uint8Array | null> {
    const headers = signV4({ method: 'GET', url, payloadSha256: EMPTY_SHA256, region: this.o.region, service: 's3', credentials: this.o.credentials });
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.o.timeoutMs) });
    if (res.status === 404) { await res.body?.cancel(); return null; }
    if (!res.ok) throw new Error(`S3 GET ${url.pathname} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** ListObjectsV2 with delimiter "/": the common prefixes under `prefix` are the model ids. */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: this.o.prefix, delimiter: '/' };
      if (token) query['continuation-token'] = token;
      const xml = new TextDecoder().decode((await this.get(this.url('', query))) ?? new Uint8Array());
      for (const m of xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)) {
        const id = xmlText(m[1]!).slice(this.o.prefix.length).replace(/\/$/, '');
        if (id) ids.push(id);
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? xmlText(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '') || undefined : undefined;
    } while (token);
    return ids.sort();
  }

  async manifest(id: string): Promise<unknown | null> {
    const bytes = await this.get(this.url(`${this.o.prefix}${id}/manifest.json`));
    return bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  }

  weights(m: Manifest): Promise<Uint8Array | null> {
    return this.get(this.url(m.onnx.key));
  }
}

const xmlText = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** The sources an environment describes: MODELS_DIRS folders first, then R2/S3 when MODELS_S3_ENDPOINT is set. */
export function sourcesFromEnv(env: NodeJS.ProcessEnv): ModelSource[] {
  const sources: ModelSource[] = (env.MODELS_DIRS ?? (env.MODELS_S3_ENDPOINT ? '' : 'models')).split(',').filter(Boolean).map((d) => new DirSource(d));
  if (env.MODELS_S3_ENDPOINT) {
    const accessKeyId = env.MODELS_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.MODELS_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) throw new Error('MODELS_S3_ENDPOINT needs MODELS_S3_ACCESS_KEY_ID and MODELS_S3_SECRET_ACCESS_KEY (or AWS_*)');
    if (!env.MODELS_S3_BUCKET) throw new Error('MODELS_S3_ENDPOINT needs MODELS_S3_BUCKET');
    sources.push(new S3Source({
      endpoint: env.MODELS_S3_ENDPOINT, bucket: env.MODELS_S3_BUCKET, region: env.MODELS_S3_REGION || 'auto',
      credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
      prefix: env.MODELS_S3_PREFIX ?? 'models/', timeoutMs: Number(env.MODELS_S3_TIMEOUT_MS) || 300_000,
    }));
  }
  return sources;
}
