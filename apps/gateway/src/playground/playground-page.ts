/**
 * The playground: one self-contained page per runnable (no CDN, no build step) that reads the
 * runnable's input schema, renders a form from it, and calls invoke or stream on the same origin.
 * When the gateway requires an API key the page asks for it and keeps it in sessionStorage only.
 */
export function playgroundPage(opts: { path: string; basePath: string; description?: string; exampleInput?: unknown; authRequired: boolean }): string {
  const boot = JSON.stringify({
    path: opts.path,
    basePath: opts.basePath,
    description: opts.description ?? '',
    example: opts.exampleInput ?? null,
    authRequired: opts.authRequired,
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.path)} · Runnel playground</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { max-width: 860px; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .muted { color: #5b6475; }
  form, section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
  input[type=text], input[type=number], input[type=password], textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; border: 1px solid #c5cbd6; border-radius: 4px; }
  textarea { min-height: 5rem; font-family: ui-monospace, monospace; }
  button { font: inherit; padding: .45rem 1rem; margin: .8rem .5rem 0 0; border-radius: 4px; border: 1px solid #2f5bd3; background: #2f5bd3; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #2f5bd3; }
  pre { white-space: pre-wrap; word-break: break-word; background: #f0f2f5; padding: .8rem; border-radius: 4px; min-height: 2rem; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<h1>Playground: <code id="runnable-name"></code></h1>
<p class="muted" id="description"></p>
<form id="input-form" autocomplete="off">
  <div id="auth" hidden>
    <label for="api-key">API key</label>
    <input type="password" id="api-key" name="api-key" placeholder="sent as Authorization: Bearer …">
  </div>
  <div id="fields"><p class="muted">Loading input schema…</p></div>
  <button type="submit" id="invoke">Invoke</button>
  <button type="button" id="stream" class="secondary">Stream</button>
</form>
<section>
  <strong>Output</strong> <span class="muted" id="status"></span>
  <pre id="output" aria-live="polite"></pre>
</section>
<script>
const BOOT = ${boot};
const $ = (id) => document.getElementById(id);
$('runnable-name').textContent = BOOT.path;
$('description').textContent = BOOT.description;
const keyInput = $('api-key');
if (BOOT.authRequired) { $('auth').hidden = false; keyInput.value = sessionStorage.getItem('runnel-api-key') || ''; }
let schema = {};
let fields = [];

function headers() {
  const h = { 'content-type': 'application/json' };
  if (keyInput.value) { sessionStorage.setItem('runnel-api-key', keyInput.value); h.authorization = 'Bearer ' + keyInput.value; }
  return h;
}

function fieldFor(name, prop, value) {
  const wrap = document.createElement('div');
  const label = document.createElement('label');
  label.textContent = prop.title || name;
  const id = 'field-' + (name || 'input');
  label.htmlFor = id;
  let el;
  if (prop.type === 'string' && !prop.enum) {
    el = document.createElement('textarea');
    el.value = value ?? '';
  } else if (prop.type === 'number' || prop.type === 'integer') {
    el = document.createElement('input'); el.type = 'number'; el.value = value ?? '';
  } else if (prop.type === 'boolean') {
    el = document.createElement('input'); el.type = 'checkbox'; el.checked = !!value;
  } else if (prop.enum) {
    el = document.createElement('select');
    for (const opt of prop.enum) { const o = document.createElement('option'); o.value = o.textContent = opt; el.appendChild(o); }
    if (value) el.value = value;
  } else {
    el = document.createElement('textarea');
    el.value = value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
    el.dataset.json = '1';
  }
  el.id = id; el.name = name || 'input';
  wrap.append(label, el);
  return { name, prop, el, wrap };
}

function readField(f) {
  const { el, prop } = f;
  if (prop.type === 'boolean') return el.checked;
  if (prop.type === 'number' || prop.type === 'integer') return el.value === '' ? undefined : Number(el.value);
  if (el.dataset.json) {
    if (el.value.trim() === '') return undefined;
    try { return JSON.parse(el.value); } catch (e) { throw new Error((f.name || 'input') + ': not valid JSON (' + e.message + ')'); }
  }
  return el.value;
}

function readInput() {
  if (schema.type === 'object' && schema.properties) {
    const out = {};
    for (const f of fields) { const v = readField(f); if (v !== undefined) out[f.name] = v; }
    return out;
  }
  return readField(fields[0]);
}

function render() {
  const box = $('fields');
  box.textContent = '';
  const ex = BOOT.example;
  if (schema.type === 'object' && schema.properties) {
    fields = Object.entries(schema.properties).map(([name, prop]) => fieldFor(name, prop, ex && ex[name]));
  } else {
    fields = [fieldFor('', schema.type ? schema : {}, ex)];
    fields[0].wrap.querySelector('label').textContent = schema.type === 'string' ? 'Input' : 'Input (JSON)';
  }
  for (const f of fields) box.appendChild(f.wrap);
}

// A huge output (an echo of a 1 MB input streams 500,000 chunks) is shown cut short, so redraws stay cheap.
const MAX_SHOWN = 200000;
function show(text, isError) {
  const out = $('output');
  out.textContent = text.length > MAX_SHOWN ? text.slice(0, MAX_SHOWN) + '\\n… (' + (text.length - MAX_SHOWN) + ' more characters not shown)' : text;
  out.className = isError ? 'error' : '';
}

async function failText(res) {
  try { const body = await res.json(); return res.status + ': ' + (typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail)); }
  catch { return res.status + ' ' + res.statusText; }
}

async function invoke(ev) {
  ev.preventDefault();
  let input;
  try { input = readInput(); } catch (e) { return show(e.message, true); }
  $('status').textContent = 'invoking…';
  const res = await fetch(BOOT.basePath + '/invoke', { method: 'POST', headers: headers(), body: JSON.stringify({ input }) });
  $('status').textContent = '';
  if (!res.ok) return show(await failText(res), true);
  const body = await res.json();
  show(typeof body.output === 'string' ? body.output : JSON.stringify(body.output, null, 2));
}

async function stream() {
  let input;
  try { input = readInput(); } catch (e) { return show(e.message, true); }
  show('');
  $('status').textContent = 'streaming…';
  const res = await fetch(BOOT.basePath + '/stream', { method: 'POST', headers: headers(), body: JSON.stringify({ input }) });
  if (!res.ok) { $('status').textContent = ''; return show(await failText(res), true); }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  // The text grows chunk by chunk (not re-joined from all chunks: that is quadratic in their number),
  // and is redrawn once per network read, however many frames the read held.
  let buffer = '', text = '', chunks = [], allStrings = true;
  const redraw = () => show(allStrings ? text : JSON.stringify(chunks, null, 2));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    let grew = false;
    buffer += decoder.decode(value, { stream: true });
    let idx;
    while ((idx = buffer.indexOf('\\r\\n\\r\\n')) !== -1) {
      const frame = buffer.slice(0, idx); buffer = buffer.slice(idx + 4);
      let event = 'message', data = '';
      for (const line of frame.split('\\r\\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (event === 'data') {
        const chunk = JSON.parse(data);
        chunks.push(chunk);
        if (typeof chunk !== 'string') allStrings = false;
        else if (allStrings) text += chunk;
        grew = true;
      } else if (event === 'error') {
        $('status').textContent = '';
        return show('Stream failed: ' + (JSON.parse(data).message || data), true);
      } else if (event === 'end') {
        if (grew) { redraw(); grew = false; }
        $('status').textContent = 'done (' + chunks.length + ' chunks)';
      }
    }
    if (grew) redraw();
  }
}

$('input-form').addEventListener('submit', (ev) => invoke(ev).catch((e) => show(String(e), true)));
$('stream').addEventListener('click', () => stream().catch((e) => show(String(e), true)));

// input_schema needs the API key too: until it loads, a JSON textarea stands in, and entering a key retries.
const SCHEMA_ERROR = 'Could not load the input schema';
let schemaLoaded = false;
function loadSchema() {
  fetch(BOOT.basePath + '/input_schema', { headers: headers() })
    .then(async (res) => { if (!res.ok) throw new Error(await failText(res)); return res.json(); })
    .then((s) => { schema = s; schemaLoaded = true; render(); if ($('output').textContent.startsWith(SCHEMA_ERROR)) show(''); })
    .catch((e) => { if (!fields.length) { schema = {}; render(); } show(SCHEMA_ERROR + ' (' + e.message + '); enter JSON input.', true); });
}
keyInput.addEventListener('change', () => { if (!schemaLoaded && keyInput.value) loadSchema(); });
loadSchema();
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
