/** Bindings and variables the Worker receives; mirrors wrangler.toml. */
export interface Env {
  MODELS: R2Bucket;
  DEFAULT_MODEL: string;
  MAX_BODY_BYTES?: string;
  MAX_IMAGE_PIXELS?: string;
  MAX_IMAGES_PER_REQUEST?: string;
  MAX_JSON_BYTES?: string;
  URL_FETCH_TIMEOUT_MS?: string;
  URL_MAX_REDIRECTS?: string;
  ALLOW_HTTP_URLS?: string;
  DNS_RESOLVER_URL?: string;
}

export type AppEnv = { Bindings: Env; Variables: { requestId: string } };
