// The page at `/`: try the API from a browser. Plain HTML + one script, no build step; the script
// only calls the public API routes, so it shows exactly what any client gets.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-vit: image classification at the edge</title>
<style>
  :root { --fg: #1b1f24; --muted: #4d5560; --accent: #1f5fa8; --bg: #fff; --panel: #f3f5f8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  main { max-width: 920px; margin: 0 auto; padding: 1rem; }
  h1 { font-size: 1.5rem; margin: .2rem 0 1rem; }
  fieldset { border: 1px solid #c9d0d9; border-radius: 8px; padding: .8rem; margin: 0 0 1rem; min-width: 0; }
  legend { font-weight: 600; padding: 0 .3rem; }
  label { display: block; font-weight: 600; margin: .4rem 0 .2rem; }
  input, select, button { font: inherit; }
  input[type=text], select { width: 100%; padding: .45rem; border: 1px solid #8a94a1; border-radius: 6px; }
  button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; cursor: pointer; }
  button:focus-visible, input:focus-visible, select:focus-visible, #drop:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
  #drop { border: 2px dashed #6b7785; border-radius: 10px; padding: 1.4rem; text-align: center; background: var(--panel); }
  #drop.over { border-color: var(--accent); background: #e6eefa; }
  .row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
  @media (max-width: 640px) { .row { grid-template-columns: minmax(0, 1fr); } }
  input[type=file] { max-width: 100%; }
  .bar { grid-template-columns: minmax(0, 9rem) minmax(0, 1fr) 4.5rem; }
  .bar span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #preview { max-width: 100%; max-height: 260px; border-radius: 8px; display: none; }
  .bar { display: grid; grid-template-columns: 9rem 1fr 4.5rem; gap: .5rem; align-items: center; margin: .25rem 0; }
  .bar .track { background: #dde3ea; border-radius: 4px; height: 1.1rem; }
  .bar .fill { background: var(--accent); height: 100%; border-radius: 4px; }
  .meta { color: var(--muted); font-size: .92rem; }
  .error { color: #a4161a; font-weight: 600; }
</style>
</head>
<body>
<main>
  <h1>edge-vit</h1>
  <p class="meta">Vision Transformer classification in a Cloudflare Worker. Drop, pick, paste or photograph an image.</p>
  <fieldset>
    <legend>Settings</legend>
    <div class="row">
      <div><label for="model">Model</label><select id="model"></select></div>
      <div><label for="key">API key</label><input id="key" type="text" autocomplete="off" spellcheck="false"></div>
    </div>
    <label for="where">Run on</label>
    <select id="where">
      <option value="api">the API (edge Worker or heavy container)</option>
      <option value="webgpu">this browser: WebGPU, else WASM</option>
      <option value="wasm">this browser: WASM</option>
    </select>
  </fieldset>
  <fieldset>
    <legend>Classify</legend>
    <div id="drop" tabindex="0" role="button" aria-describedby="drop-help">
      <p id="drop-help">Drop an image here, paste one, or press Enter to choose a file.</p>
      <label for="file">Image file</label>
      <input id="file" type="file" accept="image/jpeg,image/png,image/webp" capture="environment">
    </div>
    <div class="row" style="margin-top:1rem">
      <img id="preview" alt="The image being classified">
      <section aria-live="polite" aria-labelledby="results-title">
        <h2 id="results-title" style="font-size:1.1rem;margin:.2rem 0">Top 5</h2>
        <div id="results"><p class="meta">No image yet.</p></div>
        <p id="timings" class="meta"></p>
      </section>
    </div>
  </fieldset>
  <fieldset>
    <legend>Compare two images (embeddings)</legend>
    <div class="row">
      <div><label for="emb-a">First image</label><input id="emb-a" type="file" accept="image/*"></div>
      <div><label for="emb-b">Second image</label><input id="emb-b" type="file" accept="image/*"></div>
    </div>
    <p><button id="compare" type="button">Cosine similarity</button> <output id="similarity" for="emb-a emb-b" aria-live="polite"></output></p>
  </fieldset>
  <p class="meta">API: <a href="/openapi.json">/openapi.json</a> · models: <a href="/v1/models">/v1/models</a></p>
</main>
<script src="/app.js" type="module"></script>
</body>
</html>
`;

export const APP_JS = `
const $ = (id) => document.getElementById(id);
const key = $('key');
key.value = localStorage.getItem('edge-vit-key') || 'edge-vit-dev-key';
key.addEventListener('change', () => localStorage.setItem('edge-vit-key', key.value));
const auth = () => ({ authorization: 'Bearer ' + key.value });

async function loadModels() {
  const res = await fetch('/v1/models', { headers: auth() });
  const { default: def, models } = await res.json();
  for (const m of models) {
    const o = new Option(m.id + ' (' + m.family + ', ' + m.tier + ')', m.id);
    o.selected = m.id === def;
    $('model').append(o);
  }
  document.body.dataset.models = 'ready';
}

function problem(body) { return (body && (body.detail || body.title)) || 'request failed'; }

function error(message) {
  $('results').innerHTML = '';
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = message;
  $('results').append(p);
}

async function viaApi(file) {
  const form = new FormData();
  form.append('image', file);
  const t0 = performance.now();
  const res = await fetch('/v1/classify?top_k=5&model=' + encodeURIComponent($('model').value), { method: 'POST', body: form, headers: auth() });
  const total = performance.now() - t0;
  const body = await res.json();
  if (!res.ok) throw new Error(problem(body));
  const t = body.timings_ms;
  const where = body.backend === 'container' ? 'the heavy container' : 'the edge Worker';
  return {
    predictions: body.results[0].predictions, ran: body.backend,
    text: 'Model ' + body.model.id + ', ran on ' + where + (body.fallback ? ' (fallback from ' + body.fallback.from + ')' : '') +
      '. Decode ' + t.decode + ' ms, preprocess ' + t.preprocess + ' ms, inference ' + t.inference + ' ms, network ' + Math.max(0, Math.round(total - t.total)) + ' ms.',
  };
}

async function inBrowser(file, provider) {
  const { classifyHere } = await import('/web/browser.mjs');
  const r = await classifyHere(file, $('model').value, auth(), provider);
  const t = r.timings_ms;
  return {
    predictions: r.predictions, ran: 'browser-' + r.provider,
    text: 'Model ' + $('model').value + ', ran in this browser (' + (r.provider === 'webgpu' ? 'WebGPU' : 'WASM') + '). Decode ' + t.decode +
      ' ms, preprocess ' + t.preprocess + ' ms, inference ' + t.inference + ' ms, network 0 ms.',
  };
}

async function classify(file) {
  $('preview').src = URL.createObjectURL(file);
  $('preview').style.display = 'block';
  $('results').innerHTML = '<p class="meta">Classifying…</p>';
  delete document.body.dataset.result;
  let r;
  try {
    r = $('where').value === 'api' ? await viaApi(file) : await inBrowser(file, $('where').value);
  } catch (e) {
    error(e.message);
    return;
  }
  $('results').innerHTML = '';
  for (const p of r.predictions) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.dataset.label = p.label;
    row.dataset.score = String(p.score);
    const pct = (100 * p.score).toFixed(1) + '%';
    row.innerHTML = '<span></span><div class="track" role="meter" aria-valuemin="0" aria-valuemax="100"><div class="fill"></div></div><span></span>';
    row.children[0].textContent = p.label;
    row.children[1].setAttribute('aria-valuenow', (100 * p.score).toFixed(1));
    row.children[1].setAttribute('aria-label', p.label + ' ' + pct);
    row.children[1].firstChild.style.width = pct;
    row.children[2].textContent = pct;
    $('results').append(row);
  }
  $('timings').textContent = r.text;
  document.body.dataset.ran = r.ran;
  document.body.dataset.result = 'ready';
}

async function embedding(file) {
  const form = new FormData();
  form.append('image', file);
  const res = await fetch('/v1/embed?model=' + encodeURIComponent($('model').value), { method: 'POST', body: form, headers: auth() });
  const body = await res.json();
  if (!res.ok) throw new Error(problem(body));
  return body.results[0].embedding;
}

$('compare').addEventListener('click', async () => {
  const a = $('emb-a').files[0], b = $('emb-b').files[0];
  if (!a || !b) { $('similarity').textContent = 'Choose two images first.'; return; }
  try {
    const [x, y] = await Promise.all([embedding(a), embedding(b)]);
    const dot = x.reduce((s, v, i) => s + v * y[i], 0); // embeddings are L2-normalised
    $('similarity').textContent = 'cosine similarity ' + dot.toFixed(4);
  } catch (e) { $('similarity').textContent = e.message; }
});

const drop = $('drop');
$('file').addEventListener('change', () => $('file').files[0] && classify($('file').files[0]));
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer.files[0]; if (f) classify(f); });
window.addEventListener('paste', (e) => { const f = [...e.clipboardData.files][0]; if (f) classify(f); });
loadModels();
`;
