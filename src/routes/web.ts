import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { APP_JS, PAGE_HTML } from '../web/page';

// Only our own script and the API: the page never loads anything from elsewhere.
// 'wasm-unsafe-eval': the in-browser mode compiles onnxruntime-web's WASM.
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";

/** Files of the in-browser mode (scripts/build-web.mjs), kept in the MODELS bucket under web/. */
const WEB_FILES: Record<string, string> = {
  'browser.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.jsep.wasm': 'application/wasm',
};

export function registerWeb(app: OpenAPIHono<AppEnv>) {
  app.get('/', (c) => c.html(PAGE_HTML, 200, { 'content-security-policy': CSP }));
  app.get('/web/:file', async (c) => {
    const file = c.req.param('file');
    const type = WEB_FILES[file];
    const obj = type ? await c.env.MODELS.get(`web/${file}`) : null;
    if (!obj) throw new ApiError('not-found', `No web asset ${file}; run npm run seed to publish them.`);
    return c.body(obj.body, 200, { 'content-type': type!, etag: obj.httpEtag, 'cache-control': 'public, max-age=3600' });
  });
  app.get('/app.js', (c) => c.body(APP_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': CSP }));
}
