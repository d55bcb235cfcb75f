/**
 * Page script: wiring. Loads input_schema and config_schema (with the API key when the gateway
 * needs one), renders the input form or chat, and runs invoke, stream and stream_log with the
 * editor's config; keeps the share link and the snippets in step with the current input and config.
 *
 * Every URL starts from BOOT.runBasePath (the runnable's base path as the client addressed it, mount
 * prefix included, without a `c/{hash}` part): the page sends its whole config in each body, so a
 * field cleared in the editor is really unset rather than coming back from the hash.
 */
export const MAIN_SCRIPT = String.raw`
var $ = function (id) { return document.getElementById(id); };
var API = BOOT.runBasePath;
$('runnable-name').textContent = BOOT.path;
$('description').textContent = BOOT.description;
var keyInput = $('api-key');
if (BOOT.authRequired) { $('auth').hidden = false; keyInput.value = sessionStorage.getItem('runnel-api-key') || ''; }
var schema = {};
var fields = [];
var configSchema = null;
var chatShape = null;
var chatHistory = [];
var mode = 'form';

function endpointUrl(name) { return API + '/' + name; }

function headers() {
  var h = { 'content-type': 'application/json' };
  if (keyInput.value) { sessionStorage.setItem('runnel-api-key', keyInput.value); h.authorization = 'Bearer ' + keyInput.value; }
  return h;
}

function fieldFor(name, prop, value) {
  var wrap = document.createElement('div'); wrap.className = 'field';
  var label = document.createElement('label');
  label.textContent = prop.title || name;
  var id = 'field-' + (name || 'input');
  label.htmlFor = id;
  var el;
  if (prop.type === 'string' && !prop.enum) {
    el = document.createElement('textarea');
    el.value = value == null ? '' : value;
  } else if (prop.type === 'number' || prop.type === 'integer') {
    el = document.createElement('input'); el.type = 'number'; el.value = value == null ? '' : value;
  } else if (prop.type === 'boolean') {
    el = document.createElement('input'); el.type = 'checkbox'; el.checked = !!value;
  } else if (prop.enum) {
    el = document.createElement('select');
    prop.enum.forEach(function (opt) { var o = document.createElement('option'); o.value = o.textContent = opt; el.appendChild(o); });
    if (value) el.value = value;
  } else {
    el = document.createElement('textarea');
    el.value = value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
    el.dataset.json = '1';
  }
  el.id = id; el.name = name || 'input';
  wrap.append(label, el);
  return { name: name, prop: prop, el: el, wrap: wrap };
}

function readField(f) {
  var el = f.el, prop = f.prop;
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
    var out = {};
    fields.forEach(function (f) { var v = readField(f); if (v !== undefined) out[f.name] = v; });
    return out;
  }
  return readField(fields[0]);
}

function render() {
  var box = $('fields');
  box.textContent = '';
  var ex = BOOT.example;
  if (schema.type === 'object' && schema.properties) {
    fields = Object.keys(schema.properties).map(function (name) { return fieldFor(name, schema.properties[name], ex && ex[name]); });
  } else {
    fields = [fieldFor('', schema.type ? schema : {}, ex)];
    fields[0].wrap.querySelector('label').textContent = schema.type === 'string' ? 'Input' : 'Input (JSON)';
  }
  fields.forEach(function (f) { box.appendChild(f.wrap); });
}

// A huge output (an echo of a 1 MB input streams 500,000 chunks) is shown cut short, so redraws stay cheap.
var MAX_SHOWN = 200000;
function show(text, isError) {
  var out = $('output');
  out.textContent = text.length > MAX_SHOWN ? text.slice(0, MAX_SHOWN) + '\n… (' + (text.length - MAX_SHOWN) + ' more characters not shown)' : text;
  out.className = isError ? 'error' : '';
}
function setStatus(text) { $('status').textContent = text; }

async function failText(res) {
  try { var body = await res.json(); return res.status + ': ' + (typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail)); }
  catch (e) { return res.status + ' ' + res.statusText; }
}

function requestBody(input) { return JSON.stringify({ input: input, config: readConfig() }); }

function post(endpoint, body) { return fetch(endpointUrl(endpoint), { method: 'POST', headers: headers(), body: body }); }

// SSE frames as the gateway writes them (CRLF, "event:" then "data:" lines). onEvent returning false stops reading;
// onRead runs once per network read, so redraws happen per read, not per frame.
async function readSse(res, onEvent, onRead) {
  var reader = res.body.getReader();
  var decoder = new TextDecoder();
  var buffer = '';
  for (;;) {
    var r = await reader.read();
    if (r.done) return;
    buffer = (buffer + decoder.decode(r.value, { stream: true })).replace(/\r\n/g, '\n');
    var idx;
    while ((idx = buffer.indexOf('\n\n')) !== -1) {
      var frame = buffer.slice(0, idx); buffer = buffer.slice(idx + 2);
      var event = 'message', data = '';
      frame.split('\n').forEach(function (line) {
        if (line.indexOf('event:') === 0) event = line.slice(6).trim();
        else if (line.indexOf('data:') === 0) data += (data ? '\n' : '') + line.slice(line.charAt(5) === ' ' ? 6 : 5);
      });
      if (onEvent(event, data) === false) { reader.cancel().catch(function () {}); return; }
    }
    if (onRead) onRead();
  }
}

function sseErrorText(data) {
  try { var e = JSON.parse(data); return (e.status_code ? e.status_code + ': ' : '') + (e.message || data); } catch (x) { return data; }
}

function outputText(value) { return typeof value === 'string' ? value : JSON.stringify(value, null, 2); }

async function invoke(ev) {
  ev.preventDefault();
  var body;
  try { body = requestBody(readInput()); } catch (e) { return show(e.message, true); }
  setStatus('invoking…');
  var res = await post('invoke', body);
  setStatus('');
  if (!res.ok) return show(await failText(res), true);
  var json = await res.json();
  show(outputText(json.output));
}

async function stream() {
  var body;
  try { body = requestBody(readInput()); } catch (e) { return show(e.message, true); }
  show('');
  setStatus('streaming…');
  var res = await post('stream', body);
  if (!res.ok) { setStatus(''); return show(await failText(res), true); }
  // The text grows chunk by chunk (not re-joined from all chunks: that is quadratic in their number).
  var text = '', chunks = [], allText = true, grew = false, failed = false;
  var redraw = function () { if (grew) show(allText ? text : JSON.stringify(chunks, null, 2)); grew = false; };
  await readSse(res, function (event, data) {
    if (event === 'data') {
      var chunk = JSON.parse(data);
      chunks.push(chunk);
      var piece = allText ? chunkText(chunk) : null;
      if (piece === null) allText = false; else text += piece;
      grew = true;
    } else if (event === 'error') {
      failed = true; setStatus('');
      show('Stream failed: ' + sseErrorText(data), true);
      return false;
    } else if (event === 'end') {
      redraw();
      setStatus('done (' + chunks.length + ' chunks)');
    }
  }, function () { if (!failed) redraw(); });
}

var lastRunLog = null;
async function streamLog() {
  var body;
  try { body = requestBody(readInput()); } catch (e) { return show(e.message, true); }
  show('');
  setStatus('running with intermediate steps…');
  var log = newRunLog();
  lastRunLog = log;
  var tree = $('steps');
  tree.textContent = '';
  var res = await post('stream_log', body);
  if (!res.ok) { setStatus(''); return show(await failText(res), true); }
  var dirty = false;
  var redraw = function () {
    if (!dirty) return;
    dirty = false;
    renderRunTree(log, tree);
    if (log.state && log.state.final_output !== null && log.state.final_output !== undefined && !log.failed) show(outputText(log.state.final_output));
  };
  await readSse(res, function (event, data) {
    if (event === 'data') { applyRunLogPatch(log, JSON.parse(data).ops || []); dirty = true; }
    else if (event === 'error') {
      log.failed = true; dirty = true; redraw(); setStatus('');
      show('Stream failed: ' + sseErrorText(data), true);
      return false;
    } else if (event === 'end') {
      log.ended = true; dirty = true; redraw();
      setStatus('done (' + log.order.length + ' steps)');
    }
  }, redraw);
}

// ---- chat ----
function appendChatMessage(role, text) {
  var li = document.createElement('li');
  li.className = 'msg msg-' + role;
  var who = document.createElement('span'); who.className = 'role'; who.textContent = chatRoleLabel(role);
  var body = document.createElement('div'); body.className = 'text'; body.textContent = text;
  li.append(who, body);
  $('chat-log').appendChild(li);
  li.scrollIntoView({ block: 'nearest' });
  return body;
}

async function sendChat(ev) {
  ev.preventDefault();
  var composer = $('chat-input');
  var text = composer.value;
  if (!text.trim()) { composer.focus(); return; }
  var shape = chatShape || { kind: 'list', roleKey: 'type' };
  var body;
  try { body = requestBody(chatTurnInput(shape, chatHistory, text)); } catch (e) { return show(e.message, true); }
  appendChatMessage('human', text);
  var reply = appendChatMessage('ai', '');
  reply.parentElement.classList.add('pending');
  composer.value = '';
  $('chat-send').disabled = true;
  setStatus('streaming…');
  var answer = '', failed = null, others = [];
  try {
    var res = await post('stream', body);
    if (!res.ok) failed = await failText(res);
    else {
      await readSse(res, function (event, data) {
        if (event === 'data') {
          var chunk = JSON.parse(data);
          var piece = chunkText(chunk);
          if (piece === null) others.push(chunk); else answer += piece;
        } else if (event === 'error') { failed = 'Stream failed: ' + sseErrorText(data); return false; }
      }, function () { reply.textContent = answer || (others.length ? JSON.stringify(others, null, 2) : ''); });
    }
  } catch (e) { failed = String(e); }
  $('chat-send').disabled = false;
  reply.parentElement.classList.remove('pending');
  if (failed) {
    // The turn did not happen: it stays out of the history and its text goes back into the composer.
    reply.textContent = failed;
    reply.parentElement.classList.add('error');
    composer.value = text;
    setStatus('');
    show(failed, true);
    return;
  }
  if (!answer && others.length) answer = JSON.stringify(others);
  reply.textContent = answer;
  chatHistory.push(chatMessage(shape, 'human', text), chatMessage(shape, 'ai', answer));
  setStatus('done (' + chatHistory.length + ' messages)');
  show(answer);
  scheduleDerived();
}

function clearChat() {
  chatHistory = [];
  $('chat-log').textContent = '';
  setStatus('');
  scheduleDerived();
}

function setMode(next) {
  mode = next;
  $('mode-form').checked = next === 'form';
  $('mode-chat').checked = next === 'chat';
  $('input-form').hidden = next !== 'form';
  $('chat').hidden = next !== 'chat';
  scheduleDerived();
}

// ---- share link and snippets ----
function currentInput() {
  if (mode === 'chat') return chatTurnInput(chatShape || { kind: 'list', roleKey: 'type' }, chatHistory, $('chat-input').value || 'Hello!');
  return readInput();
}

function shareLink(config) {
  return location.origin + API + '/c/' + lzCompressToEncodedURIComponent(JSON.stringify(config)) + '/playground';
}

var SNIPPET_SHOWN = 20000;
var snippetText = '';
function updateDerived() {
  var config = null, problem = '';
  try { config = readConfig(); } catch (e) { problem = e.message; }
  var share = $('share-link');
  if (config) { share.value = shareLink(config); share.removeAttribute('aria-invalid'); $('share-open').href = share.value; }
  else { share.value = ''; share.setAttribute('aria-invalid', 'true'); }
  $('share-note').textContent = problem;
  var input;
  if (!problem) { try { input = currentInput(); } catch (e) { problem = e.message; } }
  if (problem) snippetText = '# ' + problem;
  else {
    var all = buildSnippets({ url: location.origin + API, input: input, config: config, authRequired: BOOT.authRequired });
    snippetText = all[$('snippet-kind').value] || all.curl;
  }
  $('snippet').textContent = snippetText.length > SNIPPET_SHOWN ? snippetText.slice(0, SNIPPET_SHOWN) + '\n… (cut short here; Copy copies all of it)' : snippetText;
}
var derivedTimer = 0;
function scheduleDerived() { clearTimeout(derivedTimer); derivedTimer = setTimeout(updateDerived, 60); }

async function copyText(text, note) {
  try { await navigator.clipboard.writeText(text); note.textContent = 'Copied.'; }
  catch (e) { note.textContent = 'Copy failed (' + e.message + '); select the text and copy it.'; }
}

// ---- wiring ----
$('input-form').addEventListener('submit', function (ev) { invoke(ev).catch(function (e) { setStatus(''); show(String(e), true); }); });
$('stream').addEventListener('click', function () { stream().catch(function (e) { setStatus(''); show(String(e), true); }); });
$('stream-log').addEventListener('click', function () { streamLog().catch(function (e) { setStatus(''); show(String(e), true); }); });
$('chat-form').addEventListener('submit', function (ev) { sendChat(ev).catch(function (e) { show(String(e), true); }); });
$('chat-input').addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $('chat-form').requestSubmit(); }
});
$('chat-clear').addEventListener('click', clearChat);
$('mode-form').addEventListener('change', function () { setMode('form'); });
$('mode-chat').addEventListener('change', function () { setMode('chat'); });
['input-form', 'chat-form', 'config-fields'].forEach(function (id) {
  $(id).addEventListener('input', scheduleDerived);
  $(id).addEventListener('change', scheduleDerived);
});
$('snippet-kind').addEventListener('change', updateDerived);
$('snippet-copy').addEventListener('click', function () { copyText(snippetText, $('snippet-note')); });
$('share-copy').addEventListener('click', function () { copyText($('share-link').value, $('share-note')); });

// The schemas need the API key too: until they load, a JSON textarea and a JSON config box stand in, and entering a key retries.
var SCHEMA_ERROR = 'Could not load the input schema';
var schemaLoaded = false, configSchemaLoaded = false;
function getJson(endpoint) {
  return fetch(endpointUrl(endpoint), { headers: headers() }).then(async function (res) { if (!res.ok) throw new Error(await failText(res)); return res.json(); });
}
function loadSchemas() {
  var input = schemaLoaded ? Promise.resolve() : getJson('input_schema').then(function (s) {
    schema = s; schemaLoaded = true; render();
    chatShape = detectChatShape(s);
    if (chatShape && mode === 'form' && !$('chat-log').children.length) setMode('chat');
    if ($('output').textContent.indexOf(SCHEMA_ERROR) === 0) show('');
  }).catch(function (e) { if (!fields.length) { schema = {}; render(); } show(SCHEMA_ERROR + ' (' + e.message + '); enter JSON input.', true); });
  var config = configSchemaLoaded ? Promise.resolve() : getJson('config_schema').then(function (s) {
    configSchema = s; configSchemaLoaded = true; renderConfigEditor(s, BOOT.shareConfig);
  }).catch(function () { if (!configFields.length) renderConfigEditor(null, BOOT.shareConfig); });
  return Promise.all([input, config]).then(scheduleDerived);
}
keyInput.addEventListener('change', function () { if ((!schemaLoaded || !configSchemaLoaded) && keyInput.value) loadSchemas(); });
if (BOOT.shareConfig) $('share-banner').hidden = false;
setMode('form');
loadSchemas();
`;
