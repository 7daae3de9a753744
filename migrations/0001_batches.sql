-- Batch tagging state (docs/batches.md). Apply with `wrangler d1 migrations apply edge-vit`
-- (--local for wrangler dev); the tests apply every file here in order at start.

-- One row per batch. Counts are never stored: they are derived from batch_items rows.
CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,                  -- API key id, 'anonymous' (AUTH_MODE=off) or 'webhook'
  idem_key TEXT,                        -- Idempotency-Key header, or webhook-id for ingested webhooks
  request_hash TEXT NOT NULL,           -- sha256 of the canonical request: same key + other body -> 409
  source TEXT NOT NULL,                 -- 'api' | 'webhook'
  model TEXT NOT NULL,
  top_k INTEGER NOT NULL,
  threshold REAL NOT NULL,
  callback_url TEXT,
  metadata TEXT,                        -- JSON, returned as given
  base_url TEXT NOT NULL,               -- origin for status_url/results_url in callbacks
  total INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued',-- queued | running | completed | completed_with_errors | failed
  created_at TEXT NOT NULL,
  enqueued_at TEXT,                     -- NULL until every chunk message was accepted by the queue
  started_at TEXT,
  completed_at TEXT,
  callback_state TEXT,                  -- NULL (no callback_url) | pending | queued | delivered | failed
  callback_lease_until INTEGER,         -- ms epoch: one delivery attempt in flight at a time
  callback_delivered_at TEXT,
  redelivered_items INTEGER NOT NULL DEFAULT 0, -- diagnostics only: items skipped as already recorded
  UNIQUE (owner, idem_key)
);

-- One row per finished item, written once: (batch_id, idx) is the idempotency key of the
-- at-least-once queue. ok=1: predictions are in the R2 object result_key; ok=0: error_*.
CREATE TABLE batch_items (
  batch_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  item_id TEXT,
  ok INTEGER NOT NULL,
  result_key TEXT,
  error_type TEXT,
  error_detail TEXT,
  attempts INTEGER NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (batch_id, idx)
) WITHOUT ROWID;

-- The last transient error of an item that is being retried; the dead-letter consumer
-- records it as the item's failure once the queue gives up on the message.
CREATE TABLE item_errors (
  batch_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  error_type TEXT NOT NULL,
  error_detail TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (batch_id, idx)
) WITHOUT ROWID;

-- Every completion-callback attempt (the delivery log in GET /v1/batches/:id).
CREATE TABLE callback_deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  webhook_id TEXT NOT NULL,
  at TEXT NOT NULL,
  status INTEGER,                       -- HTTP status, NULL when no response (timeout, refused)
  ok INTEGER NOT NULL,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  next_retry_s INTEGER                  -- delay before the next attempt, NULL when none follows
);
CREATE INDEX callback_deliveries_batch ON callback_deliveries (batch_id, seq);

-- Tags of objects uploaded under UPLOADS_PREFIX (R2 event notifications), one row per key.
CREATE TABLE upload_tags (
  key TEXT PRIMARY KEY,
  etag TEXT NOT NULL,
  size INTEGER,
  model TEXT NOT NULL,
  predictions TEXT,                     -- JSON [{label, index, score}], NULL on error
  top_label TEXT,
  top_score REAL,
  error_type TEXT,
  error_detail TEXT,
  attempts INTEGER NOT NULL,
  event_time TEXT,
  tagged_at TEXT NOT NULL
);
CREATE INDEX upload_tags_top_label ON upload_tags (top_label, top_score);
