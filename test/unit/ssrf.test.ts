// SSRF defences in Node: the address and hostname classifiers (every range, every spelling the
// WHATWG URL parser normalises, IPv6 forms that smuggle IPv4), then safeFetchImage with a fake
// fetch that records every request, so "refused" also means "nothing was sent".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress, isForbiddenHostname, parseIPv4, parseIPv6 } from '../../src/net/addresses';
import { safeFetchImage, type SafeFetchOptions } from '../../src/net/safe-fetch';
import { ApiError } from '../../src/errors';

const host = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('isForbiddenAddress: IPv4', () => {
  const forbidden = [
    '0.0.0.0', '0.1.2.3', '10.0.0.0', '10.255.255.255', '100.64.0.0', '100.100.100.200', '100.127.255.255',
    '127.0.0.1', '127.255.255.254', '169.254.0.1', '169.254.169.254', '172.16.0.0', '172.31.255.255',
    '192.0.0.170', '192.0.2.1', '192.88.99.1', '192.168.0.1', '192.168.255.255', '198.18.0.1', '198.19.255.255',
    '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  ];
  const allowed = ['1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '93.184.216.34', '100.63.255.255', '100.128.0.0',
    '126.255.255.255', '128.0.0.0', '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255',
    '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255'];
  it.each(forbidden)('%s is forbidden', (ip) => expect(isForbiddenAddress(ip)).toBe(true));
  it.each(allowed)('%s is allowed', (ip) => expect(isForbiddenAddress(ip)).toBe(false));
  it('malformed or empty input is forbidden (fail closed)', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.1.1.-1', 'a.b.c.d', ' 8.8.8.8', '8.8.8.8 ', 'example.com', '::g', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1:2:3:4:5:6:7']) {
      expect(isForbiddenAddress(s), JSON.stringify(s)).toBe(true);
    }
  });
});

describe('isForbiddenAddress: IPv6', () => {
  const forbidden = [
    '::', '::1', '0:0:0:0:0:0:0:1', '[::1]', 'fe80::1', 'fe80::1%eth0', 'febf:ffff::1', 'fc00::1', 'fd00::1', 'fd00:ec2::254', 'FD00:EC2::254',
    'ff02::1', 'ff05::1:3', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1',
    '::ffff:100.100.100.200', '::127.0.0.1', '::a00:1', '::ffff:0:127.0.0.1', '::ffff:0:8.8.8.8', '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.1', '64:ff9b:1::a00:1', '64:ff9b:1::808:808', '2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101::', '2001:db8::1',
    '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:2::1', '2001:10::1', '3fff::1', '100::1', '4000::1', 'fec0::1', '1::',
  ];
  const allowed = ['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '2001:4860:4860::8888', '2400:cb00::1', '::ffff:8.8.8.8', '::ffff:808:808',
    '64:ff9b::8.8.8.8', '64:ff9b::5db8:d822', '2002:808:808::1', '2002:5db8:d822::', '3001::1', '2001:200::1'];
  it.each(forbidden)('%s is forbidden', (ip) => expect(isForbiddenAddress(ip)).toBe(true));
  it.each(allowed)('%s is allowed', (ip) => expect(isForbiddenAddress(ip)).toBe(false));

  it('parses every spelling to the same 8 groups', () => {
    expect(parseIPv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7:8::')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
  });

  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const hex = (ip: string) => { const n = parseIPv4(ip)!; return `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`; };
  it('property: mapped, NAT64 and 6to4 forms of an IPv4 address are forbidden exactly when it is', () => {
    fc.assert(fc.property(v4, (ip) => {
      const f = isForbiddenAddress(ip);
      expect(isForbiddenAddress(`::ffff:${ip}`)).toBe(f);
      expect(isForbiddenAddress(`::ffff:${hex(ip)}`)).toBe(f);
      expect(isForbiddenAddress(`64:ff9b::${ip}`)).toBe(f);
      expect(isForbiddenAddress(`2002:${hex(ip)}::1`)).toBe(f);
      // ...and what the URL parser makes of the bracketed literal agrees.
      expect(isForbiddenAddress(host(`https://[::ffff:${ip}]/`))).toBe(f);
      // IPv4-compatible, SIIT and local-use NAT64 forms are refused whatever they carry.
      expect(isForbiddenAddress(`::${ip}`)).toBe(true);
      expect(isForbiddenAddress(`::ffff:0:${ip}`)).toBe(true);
      expect(isForbiddenAddress(`64:ff9b:1::${hex(ip)}`)).toBe(true);
    }), { numRuns: 2000 });
  });
  it('property: nothing outside 2000::/3 is allowed, except NAT64 and mapped forms of public IPv4', () => {
    const group = fc.nat(0xffff);
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
      const ip = g.map((x) => x.toString(16)).join(':');
      const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
      const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
      if ((g[0]! & 0xe000) !== 0x2000 && !mapped && !nat64) expect(isForbiddenAddress(ip)).toBe(true);
      expect(parseIPv6(ip)).toEqual(g);
      expect(parseIPv6(host(`https://[${ip}]/`))).toEqual(g); // the URL parser's compressed form parses back
    }), { numRuns: 2000 });
  });
});

describe('hosts as the URL parser normalises them', () => {
  // Decimal, hex, octal, short and mixed IPv4 spellings all become dotted quads before our check.
  const spellings: Array<[string, string]> = [
    ['https://2130706433/', '127.0.0.1'], ['https://0x7f000001/', '127.0.0.1'], ['https://017700000001/', '127.0.0.1'],
    ['https://0x7f.0.0.1/', '127.0.0.1'], ['https://0177.0.0.01/', '127.0.0.1'], ['https://127.1/', '127.0.0.1'], ['https://127.0.1/', '127.0.0.1'],
    ['https://2852039166/', '169.254.169.254'], ['https://0xa9fea9fe/', '169.254.169.254'], ['https://0xA9.0xFE.0xA9.0xFE/', '169.254.169.254'],
    ['https://0251.0376.0251.0376/', '169.254.169.254'], ['https://169.254.43518/', '169.254.169.254'], ['https://1684301000/', '100.100.100.200'],
    ['https://100.100.100.200./', '100.100.100.200'], ['https://0/', '0.0.0.0'], ['https://%31%32%37.0.0.1/', '127.0.0.1'],
    ['https://１２７.０.０.１/', '127.0.0.1'], ['https://10.0.0.1:443/', '10.0.0.1'],
  ];
  it.each(spellings)('%s -> %s (forbidden)', (url, expected) => {
    expect(new URL(url).hostname).toBe(expected);
    expect(isForbiddenAddress(host(url))).toBe(true);
  });
  it('IPv6 literals come out compressed, lowercase, IPv4 tails in hex', () => {
    expect(host('https://[0:0:0:0:0:FFFF:169.254.169.254]/')).toBe('::ffff:a9fe:a9fe');
    expect(host('https://[FD00:0EC2:0:0:0:0:0:254]/')).toBe('fd00:ec2::254');
    expect(isForbiddenAddress(host('https://[0:0:0:0:0:FFFF:169.254.169.254]/'))).toBe(true);
    expect(() => new URL('https://[fe80::1%25eth0]/')).toThrow(); // zone ids are not valid in URLs
  });
  it('property: any 32-bit number written as a decimal host is judged as its dotted quad', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), (n) => {
      const dotted = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      expect(host(`https://${n}/`)).toBe(dotted);
      expect(host(`https://0x${n.toString(16)}/`)).toBe(dotted);
      expect(host(`https://0${n.toString(8)}/`)).toBe(dotted);
      expect(isForbiddenAddress(host(`https://${n}/`))).toBe(isForbiddenAddress(dotted));
    }), { numRuns: 1000 });
  });
});

describe('isForbiddenHostname', () => {
  it.each(['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'printer.local', 'metadata', 'metadata.google.internal',
    'anything.internal', 'router.home.arpa', 'instance-data', 'intranet', 'kubernetes'])('%s is internal', (h) => expect(isForbiddenHostname(h)).toBe(true));
  it.each(['example.com', 'images.example.com', 'cdn.example.co.uk', 'localhost.example.com', 'local.example', 'internal.example.com'])('%s is not', (h) =>
    expect(isForbiddenHostname(h)).toBe(false));
});

// ---- safeFetchImage with a recording fake fetch -------------------------------------------

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
type Route = (url: URL) => Response | Promise<Response>;

function harness(routes: Record<string, Route>, dns: Record<string, string[]>, over: Partial<SafeFetchOptions> = {}) {
  const fetched: string[] = [];
  const resolved: string[] = [];
  const o: SafeFetchOptions = {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      fetched.push(url.href);
      expect(init?.redirect).toBe('manual');
      const route = routes[url.href];
      return route ? route(url) : new Response('not found', { status: 404 });
    }) as typeof fetch,
    resolve: async (h) => { resolved.push(h); if (!(h in dns)) throw new Error('NXDOMAIN'); return dns[h]!; },
    maxBytes: 1000, timeoutMs: 500, maxRedirects: 3, allowHttp: false, ...over,
  };
  return { o, fetched, resolved };
}

async function problemOf(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (e) { if (e instanceof ApiError) return e; throw e; }
  throw new Error('expected an ApiError');
}

const img = () => new Response(JPEG, { headers: { 'content-type': 'image/jpeg' } });
const redirect = (to: string, status = 302) => () => new Response(null, { status, headers: { location: to } });
const DNS = { 'img.example.com': ['93.184.216.34'], 'v6.example.com': ['2606:4700::1'], 'evil.example.com': ['10.0.0.7'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.1'], 'evil6.example.com': ['2606:4700::1', '::ffff:127.0.0.1'], 'meta.example.com': ['fd00:ec2::254'],
  'garbage.example.com': ['not-an-ip'], 'empty.example.com': [] };

describe('safeFetchImage', () => {
  it('fetches a public image after resolving its host', async () => {
    const h = harness({ 'https://img.example.com/a.jpg': img }, DNS);
    expect(await safeFetchImage('https://img.example.com/a.jpg', h.o)).toEqual(JPEG);
    expect(h.fetched).toEqual(['https://img.example.com/a.jpg']);
  });
  const refused: Array<[string, string]> = [
    ['http://img.example.com/a.jpg', 'https'], ['ftp://img.example.com/a.jpg', 'https'], ['file:///etc/passwd', 'https'],
    ['data:image/jpeg;base64,/9j/', 'https'], ['javascript:alert(1)', 'https'], ['gopher://img.example.com/', 'https'],
    ['https://img.example.com:8443/a.jpg', 'port'], ['https://img.example.com:80/a.jpg', 'port'], ['https://10.0.0.1:443/', 'private'],
    ['https://user:pw@img.example.com/a.jpg', 'credentials'], ['https://127.0.0.1/a.jpg', 'private'], ['https://[::1]/a.jpg', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'private'], ['https://[fd00:ec2::254]/latest/', 'private'], ['https://100.100.100.200/latest/', 'private'],
    ['https://2852039166/', 'private'], ['https://[::ffff:169.254.169.254]/', 'private'], ['https://[64:ff9b::a9fe:a9fe]/', 'private'],
    ['https://localhost/a.jpg', 'internal'], ['https://metadata.google.internal/computeMetadata/v1/', 'internal'], ['https://intranet/a.jpg', 'internal'],
    ['https://evil.example.com/a.jpg', 'resolves'], ['https://mixed.example.com/a.jpg', 'resolves'], ['https://evil6.example.com/a.jpg', 'resolves'],
    ['https://meta.example.com/a.jpg', 'resolves'], ['https://garbage.example.com/a.jpg', 'resolves'],
  ];
  it.each(refused)('%s is url-forbidden (%s) and nothing is fetched', async (url) => {
    const h = harness({ [url]: img }, DNS);
    const e = await problemOf(safeFetchImage(url, h.o));
    expect(e.type).toBe('url-forbidden');
    expect(e.status).toBe(400);
    expect(h.fetched).toEqual([]);
  });
  it('http:// is allowed only with the dev flag, and still checked for private targets', async () => {
    const h = harness({ 'http://img.example.com/a.jpg': img }, DNS, { allowHttp: true });
    expect(await safeFetchImage('http://img.example.com/a.jpg', h.o)).toEqual(JPEG);
    expect((await problemOf(safeFetchImage('http://127.0.0.1/a.jpg', h.o))).type).toBe('url-forbidden');
  });
  it('every redirect hop is checked before it is followed', async () => {
    for (const target of ['https://169.254.169.254/latest/meta-data/', 'https://evil.example.com/x.jpg', 'http://img.example.com/b.jpg',
      'https://img.example.com:8080/b.jpg', 'https://[::1]/', 'https://localhost/', 'file:///etc/passwd', 'https://0x7f000001/']) {
      const h = harness({ 'https://img.example.com/r': redirect(target) }, DNS);
      const e = await problemOf(safeFetchImage('https://img.example.com/r', h.o));
      expect(e.type, target).toBe('url-forbidden');
      expect(h.fetched, target).toEqual(['https://img.example.com/r']);
    }
  });
  it('relative redirects resolve against the current URL; 301/303/307/308 too', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const h = harness({ 'https://img.example.com/dir/r': redirect('../b.jpg', status), 'https://img.example.com/b.jpg': img }, DNS);
      expect(await safeFetchImage('https://img.example.com/dir/r', h.o)).toEqual(JPEG);
      expect(h.fetched).toEqual(['https://img.example.com/dir/r', 'https://img.example.com/b.jpg']);
    }
  });
  it('at most maxRedirects redirects', async () => {
    const chain = (n: number) => Object.fromEntries([...Array(n).keys()].map((i) => [`https://img.example.com/${i}`, redirect(`/${i + 1}`)]));
    const ok = harness({ ...chain(3), 'https://img.example.com/3': img }, DNS);
    expect(await safeFetchImage('https://img.example.com/0', ok.o)).toEqual(JPEG);
    const tooMany = harness({ ...chain(4), 'https://img.example.com/4': img }, DNS);
    const e = await problemOf(safeFetchImage('https://img.example.com/0', tooMany.o));
    expect(e.type).toBe('url-fetch-failed');
    expect(tooMany.fetched).toHaveLength(4);
    const loop = harness({ 'https://img.example.com/a': redirect('/a') }, DNS);
    expect((await problemOf(safeFetchImage('https://img.example.com/a', loop.o))).type).toBe('url-fetch-failed');
  });
  it('caps bytes: declared Content-Length and streamed bodies', async () => {
    const big = new Uint8Array(1001);
    const declared = harness({ 'https://img.example.com/a.jpg': () => new Response(big, { headers: { 'content-type': 'image/jpeg', 'content-length': '1001' } }) }, DNS);
    expect((await problemOf(safeFetchImage('https://img.example.com/a.jpg', declared.o))).type).toBe('payload-too-large');
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({ pull(ctl) { pulled++; ctl.enqueue(new Uint8Array(300)); } });
    const streamed = harness({ 'https://img.example.com/a.jpg': () => new Response(endless, { headers: { 'content-type': 'image/jpeg' } }) }, DNS);
    expect((await problemOf(safeFetchImage('https://img.example.com/a.jpg', streamed.o))).type).toBe('payload-too-large');
    expect(pulled).toBeLessThan(10); // stopped reading at the cap
  });
  it('caps time: a server that never finishes the body is cut off at timeoutMs', async () => {
    const t0 = Date.now();
    const stall = new ReadableStream<Uint8Array>({ start(ctl) { ctl.enqueue(JPEG); } });
    const h = harness({ 'https://img.example.com/a.jpg': () => new Response(stall, { headers: { 'content-type': 'image/jpeg' } }) }, DNS, { timeoutMs: 200 });
    // The fake fetch ignores the signal for the body, so make the stream honour it the way a real one does.
    const o = { ...h.o, fetch: (async (u: string, init: RequestInit) => {
      const res = await h.o.fetch(u, init);
      init.signal!.addEventListener('abort', () => stall.cancel().catch(() => {}));
      return new Response(res.body!.pipeThrough(new TransformStream(), { signal: init.signal! }), res);
    }) as typeof fetch };
    expect((await problemOf(safeFetchImage('https://img.example.com/a.jpg', o))).type).toBe('url-fetch-failed');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('caps time across DNS too: a resolver that hangs is cut off by the same deadline', async () => {
    const h = harness({}, DNS, { timeoutMs: 200 });
    const o = { ...h.o, resolve: (_h: string, signal?: AbortSignal) => new Promise<string[]>((_, rej) => signal!.addEventListener('abort', () => rej(new Error('aborted')))) };
    const t0 = Date.now();
    const e = await problemOf(safeFetchImage('https://img.example.com/a.jpg', o));
    expect(e.type).toBe('url-fetch-failed');
    expect(e.detail).toMatch(/timed out/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('content type must be an image (or octet-stream; magic bytes are checked by the decoder)', async () => {
    for (const type of ['text/html', 'image/svg+xml', 'application/json', 'image/gif', '']) {
      const h = harness({ 'https://img.example.com/a': () => new Response(JPEG, { headers: type ? { 'content-type': type } : {} }) }, DNS);
      if (!type) h.o.fetch = (async () => { const r = new Response(JPEG); r.headers.delete('content-type'); return r; }) as typeof fetch;
      expect((await problemOf(safeFetchImage('https://img.example.com/a', h.o))).type, type).toBe('unsupported-media-type');
    }
    for (const type of ['image/jpeg', 'image/png; charset=binary', 'IMAGE/WEBP', 'application/octet-stream']) {
      const h = harness({ 'https://img.example.com/a': () => new Response(JPEG, { headers: { 'content-type': type } }) }, DNS);
      expect(await safeFetchImage('https://img.example.com/a', h.o), type).toEqual(JPEG);
    }
  });
  it('upstream errors, unresolvable hosts and empty bodies are 4xx problems, never a crash', async () => {
    const h = harness({ 'https://img.example.com/500': () => new Response('x', { status: 500 }), 'https://img.example.com/204': () => new Response(null, { status: 204, headers: { 'content-type': 'image/jpeg' } }),
      'https://img.example.com/300': () => new Response('x', { status: 300 }) }, DNS);
    expect((await problemOf(safeFetchImage('https://img.example.com/500', h.o))).type).toBe('url-fetch-failed');
    expect((await problemOf(safeFetchImage('https://img.example.com/300', h.o))).type).toBe('url-fetch-failed');
    expect(await safeFetchImage('https://img.example.com/204', h.o)).toEqual(new Uint8Array(0));
    expect((await problemOf(safeFetchImage('https://nxdomain.example.com/a', h.o))).type).toBe('url-fetch-failed');
    expect((await problemOf(safeFetchImage('https://empty.example.com/a', h.o))).type).toBe('url-fetch-failed');
    expect((await problemOf(safeFetchImage('not a url', h.o))).type).toBe('invalid-request');
    const throwing = harness({}, DNS);
    throwing.o.fetch = (async () => { throw new TypeError('network'); }) as typeof fetch;
    expect((await problemOf(safeFetchImage('https://img.example.com/a', throwing.o))).type).toBe('url-fetch-failed');
  });
  it('property: for any URL, either nothing is fetched or every fetched host is public', async () => {
    const hosts = ['img.example.com', 'evil.example.com', 'mixed.example.com', 'meta.example.com', '127.0.0.1', '[::1]', '10.1.2.3', '8.8.8.8',
      '[2606:4700::1]', '[::ffff:10.0.0.1]', 'localhost', '2130706433', '0x7f.1', 'nxdomain.example.com', '169.254.169.254', 'v6.example.com'];
    const url = fc.record({
      scheme: fc.constantFrom('https', 'http', 'ftp', 'HTTPS'), host: fc.constantFrom(...hosts),
      port: fc.constantFrom('', ':443', ':8443', ':80', ':0'), path: fc.webPath(), user: fc.constantFrom('', 'u:p@'),
    }).map((r) => `${r.scheme}://${r.user}${r.host}${r.port}${r.path}`);
    await fc.assert(fc.asyncProperty(fc.array(url, { minLength: 1, maxLength: 5 }), async (chain) => {
      const routes: Record<string, Route> = {};
      const norm = chain.map((u) => { try { return new URL(u).href; } catch { return u; } });
      norm.forEach((u, i) => { routes[u] = i + 1 < norm.length ? redirect(norm[i + 1]!) : img; });
      const h = harness(routes, DNS);
      try { await safeFetchImage(chain[0]!, h.o); } catch (e) { expect(e).toBeInstanceOf(ApiError); }
      for (const f of h.fetched) {
        const u = new URL(f);
        expect(u.protocol).toBe('https:');
        expect(u.port).toBe('');
        const hn = host(f);
        const addrs = /^[\d.]+$/.test(hn) || hn.includes(':') ? [hn] : DNS[hn as keyof typeof DNS];
        expect(addrs && addrs.length > 0 && !addrs.some(isForbiddenAddress), f).toBe(true);
      }
    }), { numRuns: 500 });
  });
});
