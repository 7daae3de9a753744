// The page at `/` (src/web/index.html): try the API from a browser, or run the model in the
// browser itself (./browser.ts, loaded only when asked for). Built by scripts/build-web.mjs.
import type { LocalResult, Provider } from './browser';

interface Prediction { label: string; index: number; score: number }
interface ModelSummary { id: string; family: string; variant: string; tier: 'edge' | 'heavy'; precision: string; bytes: number; input_size: number; num_labels: number; embedding_dim: number | null }
interface Shown {
  predictions: Prediction[];
  /** data-ran: edge-wasm | container | browser-webgpu | browser-wasm ... */
  ran: string;
  where: string;
  timings: Array<[string, string]>;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const keyField = $<HTMLInputElement>('key');
const modelSel = $<HTMLSelectElement>('model');
const localBox = $<HTMLInputElement>('local');
const epSel = $<HTMLSelectElement>('ep');
const results = $('results');

const KEY_STORE = 'edge-vit-key';
keyField.value = localStorage.getItem(KEY_STORE) ?? 'edge-vit-dev-key';
keyField.addEventListener('change', () => localStorage.setItem(KEY_STORE, keyField.value.trim()));
const auth = (): Record<string, string> => (keyField.value.trim() ? { authorization: `Bearer ${keyField.value.trim()}` } : {});

localBox.addEventListener('change', () => { epSel.disabled = !localBox.checked; describeModel(); });

const models = new Map<string, ModelSummary>();
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

function describeModel() {
  const m = models.get(modelSel.value);
  if (!m) return;
  const tier = m.tier === 'edge' ? 'runs in the edge Worker' : 'runs in the heavy container';
  $('model-help').textContent = `${m.family} ${m.variant}, ${m.precision}, ${m.input_size}px input, ${m.num_labels} classes, ${mb(m.bytes)}; through the API it ${tier}` +
    (localBox.checked ? `; in this browser it downloads ${mb(m.bytes)} once.` : '.');
}

async function loadModels() {
  try {
    const res = await fetch('/v1/models', { headers: auth() });
    const body = await res.json();
    if (!res.ok) throw new Error(problem(body, res.status));
    const { default: def, models: list } = body as { default: string; models: ModelSummary[] };
    modelSel.replaceChildren();
    for (const m of list) {
      models.set(m.id, m);
      modelSel.append(new Option(`${m.id} (${m.tier})`, m.id, m.id === def, m.id === def));
    }
    describeModel();
    document.body.dataset.models = 'ready';
  } catch (e) {
    $('model-help').textContent = `Could not list the models: ${(e as Error).message}`;
    $('model-help').className = 'error';
  }
}
modelSel.addEventListener('change', describeModel);

function problem(body: unknown, status: number): string {
  const b = body as { detail?: string; title?: string } | null;
  return (b && (b.detail || b.title)) || `request failed (HTTP ${status})`;
}

function showError(message: string) {
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = message;
  results.replaceChildren(p);
  $('ran').textContent = '';
  $('timings').replaceChildren();
  document.body.dataset.result = 'error';
}

const ms = (n: number) => `${Math.round(n)} ms`;

async function viaApi(file: Blob): Promise<Shown> {
  const form = new FormData();
  form.append('image', file);
  const t0 = performance.now();
  const res = await fetch(`/v1/classify?top_k=5&model=${encodeURIComponent(modelSel.value)}`, { method: 'POST', body: form, headers: auth() });
  const body = await res.json().catch(() => null);
  const total = performance.now() - t0;
  if (!res.ok) throw new Error(problem(body, res.status));
  const t = body.timings_ms as { decode: number; preprocess: number; inference: number; total: number };
  const place = body.backend === 'container' ? 'the heavy container' : 'the edge Worker';
  return {
    predictions: body.results[0].predictions, ran: body.backend,
    where: `${body.model.id} ran on ${place}` + (body.fallback ? ` (fallback from ${body.fallback.from})` : '') + '.',
    timings: [['decode', ms(t.decode)], ['preprocess', ms(t.preprocess)], ['inference', ms(t.inference)],
      ['network', ms(Math.max(0, total - t.total))], ['total (as seen here)', ms(total)]],
  };
}

async function inBrowser(file: Blob, want: Provider): Promise<Shown> {
  const { classifyHere } = await import('./browser');
  const r: LocalResult = await classifyHere(file, modelSel.value, auth(), want);
  const t = r.timings_ms;
  const engine = r.provider === 'webgpu' ? 'WebGPU' : 'WASM';
  const timings: Array<[string, string]> = [['decode', ms(t.decode)], ['preprocess', ms(t.preprocess)], ['inference', ms(t.inference)]];
  timings.push(['network', r.weights
    ? `${ms(r.weights.ms)} weights, ${r.weights.fromCache ? 'from the browser cache' : `${mb(r.weights.bytes)} downloaded`}`
    : '0 ms (model already loaded)']);
  if (r.weights) timings.push(['session start', ms(t.session)]);
  return {
    predictions: r.predictions, ran: `browser-${r.provider}`,
    where: `${modelSel.value} ran in this browser (onnxruntime-web, ${engine})` + (r.note ? `; WebGPU not used: ${r.note}` : '') + '.',
    timings,
  };
}

function render(r: Shown) {
  const rows = r.predictions.map((p) => {
    const pct = `${(100 * p.score).toFixed(1)}%`;
    const row = document.createElement('div');
    row.className = 'bar';
    row.dataset.label = p.label;
    row.dataset.score = String(p.score);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.label;
    name.title = p.label;
    const track = document.createElement('div');
    track.className = 'track';
    track.setAttribute('role', 'meter');
    track.setAttribute('aria-valuemin', '0');
    track.setAttribute('aria-valuemax', '100');
    track.setAttribute('aria-valuenow', (100 * p.score).toFixed(1));
    track.setAttribute('aria-label', `${p.label}: ${pct}`);
    const fill = document.createElement('div');
    fill.className = 'fill';
    fill.style.width = `${(100 * p.score).toFixed(2)}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'pct';
    value.textContent = `${(100 * p.score).toFixed(p.score < 0.001 ? 3 : 1)}%`;
    row.append(name, track, value);
    return row;
  });
  results.replaceChildren(...rows);
  $('ran').textContent = r.where;
  $('timings').replaceChildren(...r.timings.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
  document.body.dataset.ran = r.ran;
  document.body.dataset.result = 'ready';
}

let preview: string | null = null;
let current = 0;
async function classify(file: File | Blob) {
  const run = ++current;
  if (preview) URL.revokeObjectURL(preview);
  preview = URL.createObjectURL(file);
  const img = $<HTMLImageElement>('preview');
  img.src = preview;
  img.style.display = 'block';
  delete document.body.dataset.result;
  const busy = document.createElement('p');
  busy.className = 'meta';
  busy.textContent = localBox.checked ? 'Classifying in this browser…' : 'Classifying…';
  results.replaceChildren(busy);
  try {
    const r = localBox.checked ? await inBrowser(file, epSel.value as Provider) : await viaApi(file);
    if (run === current) render(r);
  } catch (e) {
    if (run === current) showError((e as Error).message);
  }
}

// Inputs: file picker, camera (capture), drag and drop, paste.
for (const id of ['file', 'camera']) {
  const input = $<HTMLInputElement>(id);
  input.addEventListener('change', () => { const f = input.files?.[0]; if (f) void classify(f); });
}
const drop = $('drop');
drop.addEventListener('keydown', (e) => {
  if (e.target === drop && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); $('file').click(); }
});
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void classify(f);
});
window.addEventListener('paste', (e) => {
  const f = [...(e.clipboardData?.files ?? [])].find((x) => x.type.startsWith('image/'));
  if (f) { e.preventDefault(); void classify(f); }
});

// Embeddings: two images -> cosine similarity through /v1/embed.
async function embedding(file: File): Promise<number[]> {
  const form = new FormData();
  form.append('image', file);
  const res = await fetch(`/v1/embed?model=${encodeURIComponent(modelSel.value)}`, { method: 'POST', body: form, headers: auth() });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(problem(body, res.status));
  return body.results[0].embedding;
}
for (const side of ['a', 'b']) {
  const input = $<HTMLInputElement>(`emb-${side}`);
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    const img = $<HTMLImageElement>(`thumb-${side}`);
    if (img.src) URL.revokeObjectURL(img.src);
    if (f) { img.src = URL.createObjectURL(f); img.style.display = 'block'; } else img.style.display = 'none';
  });
}
$('compare').addEventListener('click', async () => {
  const out = $('similarity');
  const a = $<HTMLInputElement>('emb-a').files?.[0];
  const b = $<HTMLInputElement>('emb-b').files?.[0];
  if (!a || !b) { out.textContent = 'Choose two images first.'; return; }
  out.textContent = 'Comparing…';
  try {
    const [x, y] = await Promise.all([embedding(a), embedding(b)]);
    let dot = 0, nx = 0, ny = 0;
    for (let i = 0; i < x.length; i++) { dot += x[i]! * y[i]!; nx += x[i]! * x[i]!; ny += y[i]! * y[i]!; }
    out.textContent = `cosine similarity ${(dot / Math.sqrt(nx * ny)).toFixed(4)}`;
  } catch (e) {
    out.textContent = (e as Error).message;
  }
});

// Batch: upload (16 images per request, the API's per-request limit), submit, poll, download.
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const UPLOAD_GROUP = 16;
let batchResultsUrl: string | null = null;

/** The chosen images in path order, and how many other files (a folder's .txt, .DS_Store...) were left out. */
function batchFiles(): { files: File[]; skipped: number } {
  const all = [...($<HTMLInputElement>('batch-files').files ?? []), ...($<HTMLInputElement>('batch-folder').files ?? [])];
  const path = (f: File) => f.webkitRelativePath || f.name;
  const files = all.filter((f) => IMAGE_TYPES.has(f.type)).sort((a, b) => path(a).localeCompare(path(b), undefined, { numeric: true }));
  return { files, skipped: all.length - files.length };
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...auth(), ...(init.headers as Record<string, string> | undefined) } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(problem(body, res.status));
  return body as T;
}

interface BatchStatus { id: string; status: string; counts: { total: number; done: number; failed: number; pending: number }; results_url: string }
interface BatchLine { idx: number; id?: string; ok: boolean; predictions?: Prediction[]; error?: { type: string; detail: string } }

function batchProgress(done: number, total: number, text: string) {
  const bar = $<HTMLProgressElement>('batch-progress');
  bar.max = Math.max(1, total);
  bar.value = done;
  $('batch-status').textContent = text;
}

async function runBatch() {
  const { files, skipped } = batchFiles();
  const left = skipped ? ` (${skipped} other file${skipped > 1 ? 's' : ''} left out)` : '';
  const submit = $<HTMLButtonElement>('batch-submit');
  const download = $<HTMLButtonElement>('batch-download');
  if (files.length === 0) { batchProgress(0, 1, 'Choose images (JPEG, PNG or WebP) or a folder first.'); return; }
  submit.disabled = true;
  download.disabled = true;
  batchResultsUrl = null;
  $('batch-results').hidden = true;
  delete document.body.dataset.batch;
  try {
    const keys: string[] = [];
    for (let i = 0; i < files.length; i += UPLOAD_GROUP) {
      batchProgress(i, files.length, `Uploading ${i + 1}–${Math.min(files.length, i + UPLOAD_GROUP)} of ${files.length} images${left}…`);
      const form = new FormData();
      for (const f of files.slice(i, i + UPLOAD_GROUP)) form.append('image', f, f.name);
      const up = await api<{ items: Array<{ r2_key: string }> }>('/v1/batches/uploads', { method: 'POST', body: form });
      keys.push(...up.items.map((x) => x.r2_key));
    }
    const items = files.map((f, i) => ({ id: (f.webkitRelativePath || f.name).slice(0, 200), r2_key: keys[i]! }));
    const created = await api<BatchStatus>('/v1/batches', {
      method: 'POST', body: JSON.stringify({ items, model: modelSel.value, top_k: 5 }),
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    });
    document.body.dataset.batchId = created.id;
    let st = created;
    for (;;) {
      st = await api<BatchStatus>(`/v1/batches/${created.id}`);
      const finished = st.counts.done + st.counts.failed;
      batchProgress(finished, st.counts.total, `Batch ${st.id}: ${st.status}, ${st.counts.done} done, ${st.counts.failed} failed, ${st.counts.pending} pending${left}.`);
      if (!['queued', 'running'].includes(st.status)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    batchResultsUrl = `/v1/batches/${st.id}/results`;
    await showBatchResults();
    download.disabled = false;
    document.body.dataset.batch = st.status;
  } catch (e) {
    batchProgress(0, 1, `Batch failed: ${(e as Error).message}`);
    document.body.dataset.batch = 'error';
  } finally {
    submit.disabled = false;
  }
}

async function batchJsonl(): Promise<string> {
  const res = await fetch(batchResultsUrl!, { headers: auth() });
  if (!res.ok) throw new Error(problem(await res.json().catch(() => null), res.status));
  return res.text();
}

async function showBatchResults() {
  const lines = (await batchJsonl()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as BatchLine);
  const rows = lines.map((l) => {
    const tr = document.createElement('tr');
    const top = l.predictions?.[0];
    tr.dataset.id = l.id ?? '';
    tr.dataset.label = top?.label ?? '';
    tr.dataset.score = top ? String(top.score) : '';
    const cells: Array<[string, string]> = [
      [String(l.idx + 1), 'num'], [l.id ?? '', 'name'],
      [l.ok ? top?.label ?? '' : `error: ${l.error?.type ?? 'unknown'}`, ''], [top ? `${(100 * top.score).toFixed(1)}%` : '', 'num'],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      if (cls === 'name') td.title = text;
      tr.append(td);
    }
    return tr;
  });
  $('batch-results').querySelector('tbody')!.replaceChildren(...rows);
  $('batch-results').hidden = false;
}

$('batch-submit').addEventListener('click', () => void runBatch());
$('batch-download').addEventListener('click', async () => {
  if (!batchResultsUrl) return;
  try {
    const url = URL.createObjectURL(new Blob([await batchJsonl()], { type: 'application/x-ndjson' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${document.body.dataset.batchId ?? 'batch'}.jsonl`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    $('batch-status').textContent = `Download failed: ${(e as Error).message}`;
  }
});

void loadModels();
