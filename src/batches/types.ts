/** Shapes shared by the producer (routes), the consumers and the store. */

/** One item as submitted: exactly one of url / r2_key. */
export interface ItemSpec { id?: string; url?: string; r2_key?: string }

/** A queue message of the work queue: a contiguous run of one batch's items. */
export interface ChunkMessage {
  kind: 'chunk';
  batch_id: string;
  /** Index of items[0] in the batch; item i of the message is batch item start + i. */
  start: number;
  items: ItemSpec[];
}

/** A queue message of the callback queue: one delivery attempt of a batch's completion callback. */
export interface CallbackMessage {
  kind: 'callback';
  batch_id: string;
  /** 1-based attempt this message stands for; a message whose attempt is already logged is a duplicate. */
  attempt: number;
}

export type BatchStatus = 'queued' | 'running' | 'completed' | 'completed_with_errors' | 'failed';

export interface BatchRow {
  id: string;
  owner: string;
  idem_key: string | null;
  request_hash: string;
  source: string;
  model: string;
  top_k: number;
  threshold: number;
  callback_url: string | null;
  metadata: string | null;
  base_url: string;
  total: number;
  status: BatchStatus;
  created_at: string;
  enqueued_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  callback_state: string | null;
  callback_lease_until: number | null;
  callback_delivered_at: string | null;
  redelivered_items: number;
}

export interface ItemRow {
  batch_id: string;
  idx: number;
  item_id: string | null;
  ok: number;
  result_key: string | null;
  error_type: string | null;
  error_detail: string | null;
  attempts: number;
  finished_at: string;
}

/** An item's outcome before it is written. */
export type ItemOutcome =
  | { idx: number; item_id: string | null; ok: true; predictions: unknown }
  | { idx: number; item_id: string | null; ok: false; error_type: string; error_detail: string };
