import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { APP_JS, PAGE_HTML } from '../web/page';

// Only our own script and the API: the page never loads anything from elsewhere.
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

export function registerWeb(app: OpenAPIHono<AppEnv>) {
  app.get('/', (c) => c.html(PAGE_HTML, 200, { 'content-security-policy': CSP }));
  app.get('/app.js', (c) => c.body(APP_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': CSP }));
}
