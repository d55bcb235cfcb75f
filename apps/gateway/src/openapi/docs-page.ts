/**
 * GET /docs: a self-contained page (no CDN, no build step) that fetches the gateway's own
 * /openapi.json and renders it: the operations grouped by runnable, their request bodies, responses
 * and examples, and the component schemas. Its only script is inline; it talks to its own origin only.
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runnel gateway · API docs</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { max-width: 980px; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  h2 { font-size: 1.2rem; margin-top: 2rem; }
  .muted { color: #5b6475; }
  details.op { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; margin: .4rem 0; }
  details.op > summary { cursor: pointer; padding: .5rem .7rem; font-family: ui-monospace, monospace; }
  details.op > div { padding: 0 .8rem .8rem; }
  .method { display: inline-block; min-width: 3.6rem; font-weight: 700; text-transform: uppercase; }
  .method.post { color: #1b7a3a; } .method.get { color: #2f5bd3; }
  .summary-text { font-family: system-ui, sans-serif; color: #5b6475; margin-left: .6rem; }
  pre { white-space: pre-wrap; word-break: break-word; background: #f0f2f5; padding: .6rem; border-radius: 4px; font-size: .85rem; max-height: 24rem; overflow: auto; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; vertical-align: top; padding: .2rem .5rem; border-bottom: 1px solid #eceff3; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<h1 id="title">Runnel gateway</h1>
<p class="muted" id="description">Loading <a href="openapi.json">openapi.json</a>…</p>
<p id="auth" class="muted" hidden></p>
<nav id="toc"></nav>
<main id="operations"></main>
<h2>Schemas</h2>
<div id="schemas"></div>
<script>
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) { if (k === 'class') e.className = v; else e.setAttribute(k, v); }
  for (const c of children) if (c !== undefined && c !== null) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}
const json = (v) => el('pre', {}, JSON.stringify(v, null, 2));
function resolve(doc, obj) {
  let o = obj;
  for (let i = 0; o && o.$ref && i < 10; i++) o = o.$ref.slice(2).split('/').reduce((acc, k) => acc && acc[decodeURIComponent(k)], doc);
  return o || obj;
}
function render(doc) {
  $('title').textContent = doc.info.title + ' ' + doc.info.version;
  $('description').textContent = doc.info.description || '';
  const schemes = doc.components && doc.components.securitySchemes;
  if (schemes) {
    $('auth').hidden = false;
    $('auth').textContent = 'API key required on every operation except the playground: ' +
      Object.values(schemes).map((s) => s.description || s.type).join(' or ') + '.';
  }
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  const toc = el('ul', {});
  for (const [tag, ops] of byTag) {
    toc.append(el('li', {}, el('a', { href: '#tag-' + tag }, tag), ' (' + ops.length + ' operations)'));
    const section = el('section', { id: 'tag-' + tag, 'data-runnable': tag }, el('h2', {}, tag));
    const info = (doc.tags || []).find((t) => t.name === tag);
    if (info && info.description) section.append(el('p', { class: 'muted' }, info.description));
    for (const { path, method, op } of ops) {
      const body = el('div', {});
      if (op.description) body.append(el('p', {}, op.description));
      if (op.requestBody) {
        const media = Object.entries(op.requestBody.content)[0];
        body.append(el('h4', {}, 'Request body (' + media[0] + ')'), json(media[1].schema));
        if (media[1].example !== undefined) body.append(el('h4', {}, 'Example'), json(media[1].example));
      }
      const rows = el('tbody', {});
      for (const [status, r] of Object.entries(op.responses)) {
        const res = resolve(doc, r);
        const types = Object.keys(res.content || {}).join(', ');
        rows.append(el('tr', {}, el('td', {}, status), el('td', {}, types), el('td', {}, res.description || '')));
      }
      body.append(el('h4', {}, 'Responses'), el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Status'), el('th', {}, 'Type'), el('th', {}, 'Description'))), rows));
      const ok = op.responses['200'] && op.responses['200'].content;
      if (ok) {
        const [type, media] = Object.entries(ok)[0];
        if (type === 'application/json') body.append(el('h4', {}, '200 body'), json(media.example !== undefined ? media.example : media.schema));
      }
      section.append(el('details', { class: 'op', 'data-path': path },
        el('summary', {}, el('span', { class: 'method ' + method }, method), path, el('span', { class: 'summary-text' }, op.summary || '')), body));
    }
    $('operations').append(section);
  }
  $('toc').append(toc);
  for (const [name, schema] of Object.entries((doc.components && doc.components.schemas) || {})) {
    $('schemas').append(el('details', { class: 'op', id: 'schema-' + name }, el('summary', {}, name), el('div', {}, json(schema))));
  }
}
fetch('openapi.json', { headers: { accept: 'application/json' } })
  .then((r) => { if (!r.ok) throw new Error('openapi.json: HTTP ' + r.status); return r.json(); })
  .then(render)
  .catch((e) => { $('description').textContent = String(e.message || e); $('description').className = 'error'; });
</script>
</body>
</html>
`;
}
