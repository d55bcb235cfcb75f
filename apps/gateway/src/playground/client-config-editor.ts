/**
 * Page script: the config editor, built from `config_schema` — a field per configurable property
 * (enum → select, string/number/integer inputs, boolean → not set/true/false, anything else raw
 * JSON), a field per other client-settable key (tags, metadata, …), and an "other config" JSON box
 * for keys no field covers (a shared config may carry them). Fields left empty are not sent, so the
 * runnable's defaults apply.
 */
export const CONFIG_EDITOR_SCRIPT = String.raw`
var configFields = [];

function configFieldFor(path, prop, value) {
  var id = 'config-' + path.join('-').replace(/[^\w-]/g, '_');
  var wrap = document.createElement('div'); wrap.className = 'field';
  var label = document.createElement('label'); label.htmlFor = id;
  label.textContent = (prop && prop.title) || path[path.length - 1];
  var el, kind;
  var type = prop && (Array.isArray(prop.type) ? prop.type.find(function (t) { return t !== 'null'; }) : prop.type);
  var hasDefault = prop && prop.default !== undefined && prop.default !== null;
  if (prop && Array.isArray(prop.enum)) {
    kind = 'enum';
    el = document.createElement('select');
    var none = document.createElement('option'); none.value = '';
    none.textContent = hasDefault ? '(default: ' + prop.default + ')' : '(not set)';
    el.appendChild(none);
    prop.enum.forEach(function (opt, i) { var o = document.createElement('option'); o.value = String(i); o.textContent = String(opt); el.appendChild(o); });
    var at = value === undefined ? -1 : prop.enum.indexOf(value);
    if (at >= 0) el.value = String(at);
  } else if (type === 'boolean') {
    kind = 'boolean';
    el = document.createElement('select');
    [['', hasDefault ? '(default: ' + prop.default + ')' : '(not set)'], ['true', 'true'], ['false', 'false']].forEach(function (p) {
      var o = document.createElement('option'); o.value = p[0]; o.textContent = p[1]; el.appendChild(o);
    });
    if (value === true || value === false) el.value = String(value);
  } else if (type === 'number' || type === 'integer') {
    kind = 'number';
    el = document.createElement('input'); el.type = 'number';
    if (type === 'integer') el.step = '1'; else el.step = 'any';
    if (hasDefault) el.placeholder = 'default: ' + prop.default;
    if (typeof value === 'number') el.value = String(value);
  } else if (type === 'string') {
    kind = 'string';
    el = document.createElement('input'); el.type = 'text';
    if (hasDefault) el.placeholder = 'default: ' + prop.default;
    if (typeof value === 'string') el.value = value;
  } else {
    kind = 'json';
    el = document.createElement('textarea'); el.className = 'json';
    el.placeholder = hasDefault ? 'default: ' + JSON.stringify(prop.default) : 'JSON';
    if (value !== undefined) el.value = JSON.stringify(value, null, 2);
    label.textContent += ' (JSON)';
  }
  el.id = id; el.name = id;
  wrap.append(label, el);
  if (prop && prop.description) {
    var hint = document.createElement('p'); hint.className = 'muted hint'; hint.id = id + '-hint'; hint.textContent = prop.description;
    el.setAttribute('aria-describedby', hint.id);
    wrap.appendChild(hint);
  }
  return { path: path, prop: prop, kind: kind, el: el, wrap: wrap };
}

function readConfigField(f) {
  var v = f.el.value;
  if (f.kind === 'enum') return v === '' ? undefined : f.prop.enum[Number(v)];
  if (f.kind === 'boolean') return v === '' ? undefined : v === 'true';
  if (f.kind === 'number') return v === '' ? undefined : Number(v);
  if (f.kind === 'string') return v === '' ? undefined : v;
  if (v.trim() === '') return undefined;
  try { return JSON.parse(v); } catch (e) { throw new Error('Config ' + f.path.join('.') + ': not valid JSON (' + e.message + ')'); }
}

function takeValue(obj, path) {
  var cur = obj;
  for (var i = 0; i < path.length - 1; i++) { if (!cur || typeof cur !== 'object') return undefined; cur = cur[path[i]]; }
  if (!cur || typeof cur !== 'object' || !(path[path.length - 1] in cur)) return undefined;
  var v = cur[path[path.length - 1]];
  delete cur[path[path.length - 1]];
  return v;
}

function renderConfigEditor(schema, initial) {
  var box = $('config-fields');
  box.textContent = '';
  configFields = [];
  // What the fields take is removed from the copy; the rest goes to the "other config" box.
  var rest = JSON.parse(JSON.stringify(initial || {}));
  var props = (schema && schema.properties) || {};
  Object.keys(props).forEach(function (key) {
    var prop = mainAlternative(props[key], schema);
    if (key === 'configurable' && prop && prop.properties && Object.keys(prop.properties).length) {
      Object.keys(prop.properties).forEach(function (name) {
        configFields.push(configFieldFor(['configurable', name], mainAlternative(prop.properties[name], schema), takeValue(rest, ['configurable', name])));
      });
    } else {
      configFields.push(configFieldFor([key], prop || {}, takeValue(rest, [key])));
    }
  });
  if (rest.configurable && typeof rest.configurable === 'object' && !Object.keys(rest.configurable).length) delete rest.configurable;
  if (!configFields.length) {
    var none = document.createElement('p'); none.className = 'muted'; none.id = 'config-none';
    none.textContent = schema ? 'This runnable declares no configurable fields.' : 'Config schema not loaded; enter config as JSON.';
    box.appendChild(none);
  }
  configFields.forEach(function (f) { box.appendChild(f.wrap); });
  var extra = configFieldFor(['extra'], { title: 'Other config' }, Object.keys(rest).length ? rest : undefined);
  extra.el.placeholder = '{"configurable": {…}}';
  configFields.push(extra);
  box.appendChild(extra.wrap);
}

function readConfig() {
  var out = {};
  configFields.forEach(function (f) {
    var v = readConfigField(f);
    if (v === undefined) return;
    if (f.path[0] === 'extra') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('Other config: expected a JSON object');
      Object.keys(v).forEach(function (k) {
        if (k === 'configurable' && v[k] && typeof v[k] === 'object') out.configurable = Object.assign({}, out.configurable, v[k]);
        else out[k] = v[k];
      });
      return;
    }
    var cur = out;
    for (var i = 0; i < f.path.length - 1; i++) cur = cur[f.path[i]] = cur[f.path[i]] || {};
    cur[f.path[f.path.length - 1]] = v;
  });
  return out;
}
`;
