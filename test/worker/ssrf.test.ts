// SSRF through the real Worker in workerd: every outbound request the Worker makes lands in
// `outbound` and is recorded. A refused URL must be a 400 url-forbidden AND leave no request
// to its target in the log (only the DoH lookup where a name had to be resolved).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, photo } from '../support/images';
import { startWorker, type TestWorker } from '../support/worker';

const MODEL = 'squeezenet1.1-imagenet';
const TENCH = photo('n01440764_tench.JPEG');
const DOH = 'cloudflare-dns.com';

// name -> [A records, AAAA records]
const DNS: Record<string, [string[], string[]]> = {
  'images.example.com': [['93.184.216.34'], []],
  'cdn.example.net': [['93.184.216.35'], []],
  'rebind.example.com': [['10.0.0.5'], []],
  'meta.example.com': [['169.254.169.254'], []],
  'alibaba.example.com': [['100.100.100.200'], []],
  'loop6.example.com': [[], ['::1']],
  'ec2v6.example.com': [[], ['fd00:ec2::254']],
  'mixed.example.com': [['93.184.216.34', '192.168.1.10'], []],
  'mapped.example.com': [[], ['::ffff:127.0.0.1']],
  'nat64.example.com': [[], ['64:ff9b::a9fe:a9fe']],
};

const log: string[] = [];
let hang = false;

async function outbound(req: Request): Promise<Response> {
  const url = new URL(req.url);
  log.push(url.href);
  if (url.hostname === DOH) {
    const name = url.searchParams.get('name')!;
    const type = url.searchParams.get('type');
    const [a, aaaa] = DNS[name] ?? [[], []];
    const answer = (type === 'A' ? a : aaaa).map((data) => ({ name, type: type === 'A' ? 1 : 28, TTL: 60, data }));
    return new Response(JSON.stringify({ Status: DNS[name] ? 0 : 3, Answer: answer }), { headers: { 'content-type': 'application/dns-json' } });
  }
  if (url.hostname !== 'images.example.com' && url.hostname !== 'cdn.example.net') return new Response('SHOULD NEVER BE REACHED', { status: 418 });
  const p = url.pathname;
  if (p === '/tench.jpg') return new Response(TENCH, { headers: { 'content-type': 'image/jpeg' } });
  if (p.startsWith('/to/')) return new Response(null, { status: 302, headers: { location: decodeURIComponent(p.slice(4)) } });
  if (p.startsWith('/hops/')) {
    const n = Number(p.slice(6));
    return new Response(null, { status: 301, headers: { location: n > 0 ? `/hops/${n - 1}` : '/tench.jpg' } });
  }
  if (p === '/html') return new Response('<html>hi</html>', { headers: { 'content-type': 'text/html' } });
  if (p === '/fake.jpg') return new Response('<html>not a jpeg</html>', { headers: { 'content-type': 'image/jpeg' } });
  if (p === '/declared-huge') return new Response(TENCH, { headers: { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) } });
  if (p === '/endless') {
    let sent = 0;
    return new Response(new ReadableStream({ pull(ctl) { sent += 65536; if (sent > 64 * 1024 * 1024) ctl.close(); else ctl.enqueue(new Uint8Array(65536)); } }), { headers: { 'content-type': 'image/jpeg' } });
  }
  if (p === '/slow') {
    hang = true;
    return new Promise((resolve) => setTimeout(() => resolve(new Response(TENCH, { headers: { 'content-type': 'image/jpeg' } })), 5000));
  }
  return new Response('not found', { status: 404 });
}

let w: TestWorker;
beforeAll(async () => {
  w = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, URL_FETCH_TIMEOUT_MS: '1500', MAX_BODY_BYTES: '2000000' }, outbound: outbound as never });
});
afterAll(async () => { await w?.dispose(); });
beforeEach(() => { log.length = 0; });

const byUrl = (url: string) => w.fetch('/v1/classify', { method: 'POST', body: JSON.stringify({ url }), headers: { 'content-type': 'application/json' } });
const targets = () => log.filter((u) => new URL(u).hostname !== DOH);
const lookups = () => log.filter((u) => new URL(u).hostname === DOH).map((u) => new URL(u).searchParams.get('name'));

describe('URL inputs that must be refused without touching the target', () => {
  const literal = [
    'https://127.0.0.1/a.jpg', 'https://10.0.0.1/a.jpg', 'https://172.16.5.4/a.jpg', 'https://192.168.1.1/a.jpg', 'https://100.64.0.1/a.jpg',
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/', 'https://100.100.100.200/latest/meta-data/', 'https://[fd00:ec2::254]/latest/meta-data/',
    'https://[::1]/a.jpg', 'https://[::ffff:169.254.169.254]/', 'https://[::ffff:7f00:1]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://[2002:a9fe:a9fe::]/',
    'https://[fe80::1]/', 'https://0.0.0.0/', 'https://2130706433/', 'https://0x7f000001/', 'https://017700000001/', 'https://0x7f.1/', 'https://127.1/',
    'https://2852039166/latest/meta-data/', 'https://0xA9.0xFE.0xA9.0xFE/', 'https://%31%32%37.0.0.1/',
  ];
  it.each(literal)('literal address %s: 400, no outbound request at all', async (url) => {
    await expectProblem(await byUrl(url), 400, 'url-forbidden');
    expect(log).toEqual([]);
  });

  const internalNames = ['https://localhost/a.jpg', 'https://localhost./a.jpg', 'https://x.localhost/', 'https://metadata.google.internal/computeMetadata/v1/',
    'https://metadata/computeMetadata/v1/', 'https://db.internal/', 'https://nas.local/', 'https://router.home.arpa/', 'https://intranet/'];
  it.each(internalNames)('internal name %s: 400 without even a DNS lookup', async (url) => {
    await expectProblem(await byUrl(url), 400, 'url-forbidden');
    expect(log).toEqual([]);
  });

  const resolving = ['rebind.example.com', 'meta.example.com', 'alibaba.example.com', 'loop6.example.com', 'ec2v6.example.com', 'mixed.example.com', 'mapped.example.com', 'nat64.example.com'];
  it.each(resolving)('%s resolves (DoH) to a private address: 400, only the DoH lookups went out', async (name) => {
    await expectProblem(await byUrl(`https://${name}/a.jpg`), 400, 'url-forbidden');
    expect(targets()).toEqual([]);
    expect(lookups().every((n) => n === name)).toBe(true);
    expect(lookups().length).toBeGreaterThan(0);
  });

  const badScheme = ['http://images.example.com/tench.jpg', 'ftp://images.example.com/tench.jpg', 'file:///etc/passwd', 'gopher://images.example.com/', 'ws://images.example.com/'];
  it.each(badScheme)('scheme %s: 400, no outbound request', async (url) => {
    await expectProblem(await byUrl(url), 400, 'url-forbidden');
    expect(log).toEqual([]);
  });

  it.each(['https://images.example.com:8443/tench.jpg', 'https://images.example.com:80/tench.jpg', 'https://images.example.com:22/', 'https://93.184.216.34:8080/'])(
    'non-default port %s: 400, no outbound request', async (url) => {
      await expectProblem(await byUrl(url), 400, 'url-forbidden');
      expect(log).toEqual([]);
    });

  it('credentials in the URL: 400, no outbound request', async () => {
    await expectProblem(await byUrl('https://user:secret@images.example.com/tench.jpg'), 400, 'url-forbidden');
    expect(log).toEqual([]);
  });
});

describe('redirects are checked hop by hop', () => {
  const to = (target: string) => `https://images.example.com/to/${encodeURIComponent(target)}`;
  const privateTargets = [
    'https://169.254.169.254/latest/meta-data/', 'https://[fd00:ec2::254]/latest/meta-data/', 'https://100.100.100.200/', 'https://127.0.0.1/',
    'https://0x7f000001/', 'https://[::ffff:10.0.0.1]/', 'https://localhost/', 'http://images.example.com/tench.jpg', 'https://images.example.com:8443/tench.jpg',
    'file:///etc/passwd',
  ];
  it.each(privateTargets)('a redirect to %s: 400, the first hop fetched, the target never', async (target) => {
    await expectProblem(await byUrl(to(target)), 400, 'url-forbidden');
    expect(targets()).toEqual([to(target)]);
  });
  it('a redirect to a host that resolves privately: the DoH lookup for it, no request to it', async () => {
    await expectProblem(await byUrl(to('https://rebind.example.com/a.jpg')), 400, 'url-forbidden');
    expect(targets()).toEqual([to('https://rebind.example.com/a.jpg')]);
    expect(lookups()).toContain('rebind.example.com');
  });
  it('a chain of public redirects (3, the limit) is followed to the image', async () => {
    const res = await byUrl('https://images.example.com/hops/2');
    expect(res.status).toBe(200);
    expect(targets()).toEqual(['https://images.example.com/hops/2', 'https://images.example.com/hops/1', 'https://images.example.com/hops/0', 'https://images.example.com/tench.jpg']);
  });
  it('more than 3 redirects: 422 url-fetch-failed, the 5th request never made', async () => {
    await expectProblem(await byUrl('https://images.example.com/hops/3'), 422, 'url-fetch-failed');
    expect(targets()).toHaveLength(4);
  });
  it('a public cross-host redirect is allowed, with a DNS check of the new host', async () => {
    const res = await byUrl(to('https://cdn.example.net/tench.jpg'));
    expect(res.status).toBe(200);
    expect(lookups()).toContain('cdn.example.net');
    expect(targets()).toEqual([to('https://cdn.example.net/tench.jpg'), 'https://cdn.example.net/tench.jpg']);
  });
});

describe('content and caps', () => {
  it('the happy path: DoH, then exactly one request to the image', async () => {
    const res = await byUrl('https://images.example.com/tench.jpg');
    expect(res.status).toBe(200);
    expect(targets()).toEqual(['https://images.example.com/tench.jpg']);
    expect(lookups()).toEqual(expect.arrayContaining(['images.example.com']));
  });
  it('the default port spelled out is the default port', async () => {
    expect((await byUrl('https://images.example.com:443/tench.jpg')).status).toBe(200);
  });
  it('a non-image content type: 415', async () => {
    await expectProblem(await byUrl('https://images.example.com/html'), 415, 'unsupported-media-type');
  });
  it('image/jpeg that is not a JPEG (magic bytes): 415', async () => {
    await expectProblem(await byUrl('https://images.example.com/fake.jpg'), 415, 'unsupported-media-type');
  });
  it('declared Content-Length over the cap: 413 before reading', async () => {
    await expectProblem(await byUrl('https://images.example.com/declared-huge'), 413, 'payload-too-large');
  });
  it('an endless body is cut at the byte cap: 413', async () => {
    await expectProblem(await byUrl('https://images.example.com/endless'), 413, 'payload-too-large');
  });
  it('a server slower than URL_FETCH_TIMEOUT_MS: 422 within the deadline', async () => {
    const t0 = Date.now();
    await expectProblem(await byUrl('https://images.example.com/slow'), 422, 'url-fetch-failed');
    expect(hang).toBe(true);
    expect(Date.now() - t0).toBeLessThan(4500);
  });
  it('an upstream 404 and an unknown host: 422', async () => {
    await expectProblem(await byUrl('https://images.example.com/missing.jpg'), 422, 'url-fetch-failed');
    await expectProblem(await byUrl('https://nxdomain.example.com/a.jpg'), 422, 'url-fetch-failed');
    expect(targets()).toEqual(['https://images.example.com/missing.jpg']);
  });
  it('URLs in multipart "url" fields take the same path', async () => {
    const form = new FormData();
    form.append('url', 'https://169.254.169.254/latest/meta-data/');
    await expectProblem(await w.fetch('/v1/classify', { method: 'POST', body: form }), 400, 'url-forbidden');
    expect(log).toEqual([]);
  });
});

describe('ALLOW_HTTP_URLS (dev only)', () => {
  it('allows http:// but still refuses private targets', async () => {
    const dev = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, ALLOW_HTTP_URLS: 'true' }, outbound: outbound as never });
    try {
      const ok = await dev.fetch('/v1/classify', { method: 'POST', body: JSON.stringify({ url: 'http://images.example.com/tench.jpg' }), headers: { 'content-type': 'application/json' } });
      expect(ok.status).toBe(200);
      log.length = 0;
      await expectProblem(await dev.fetch('/v1/classify', { method: 'POST', body: JSON.stringify({ url: 'http://169.254.169.254/' }), headers: { 'content-type': 'application/json' } }), 400, 'url-forbidden');
      expect(log).toEqual([]);
    } finally {
      await dev.dispose();
    }
  });
});
