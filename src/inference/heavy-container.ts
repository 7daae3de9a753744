import { DurableObject } from 'cloudflare:workers';

/**
 * Production routing to the companion container (Cloudflare Containers): one Durable Object
 * fronts the container instance, starts it on demand and forwards OIP v2 requests to its
 * port. Bound only in the `production` environment of wrangler.toml; dev and tests use
 * CONTAINER_URL instead.
 */
export class HeavyContainer extends DurableObject {
  async fetch(request: Request): Promise<Response> {
    const container = (this.ctx as unknown as { container?: ContainerApi }).container;
    if (!container) return new Response('containers are not enabled for this Durable Object', { status: 503 });
    if (!container.running) container.start({ enableInternet: false });
    const url = new URL(request.url);
    return container.getTcpPort(8080).fetch(`http://container${url.pathname}${url.search}`, request);
  }
}

interface ContainerApi {
  running: boolean;
  start(options?: { enableInternet?: boolean }): void;
  getTcpPort(port: number): { fetch(url: string, init?: RequestInit | Request): Promise<Response> };
}
