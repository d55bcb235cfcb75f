/**
 * Page script: "copy as" snippets of the current invoke request — curl, LangChain.js
 * `RemoteRunnable`, LangServe's Python `RemoteRunnable`. The API key is never written into a
 * snippet: when the gateway needs one, the snippet reads it from the RUNNEL_API_KEY environment
 * variable, so a pasted snippet leaks nothing and runs as is once the variable is set.
 *
 * `buildSnippets({url, input, config, authRequired})`: `url` is the runnable's absolute base URL
 * (origin + mount prefix + path, no endpoint); `config` is omitted from the snippets when empty.
 */
export const SNIPPETS_SCRIPT = String.raw`
var API_KEY_VARIABLE = 'RUNNEL_API_KEY';

function shellQuote(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }

function jsQuote(s) { return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') + "'"; }

// JSON → Python literal (True/False/None), indented like black would.
function toPython(v, indent) {
  indent = indent || '';
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'None';
  if (typeof v === 'string') return JSON.stringify(v);
  var next = indent + '    ';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map(function (x) { return next + toPython(x, next); }).join(',\n') + ',\n' + indent + ']';
  }
  var keys = Object.keys(v);
  if (!keys.length) return '{}';
  return '{\n' + keys.map(function (k) { return next + JSON.stringify(k) + ': ' + toPython(v[k], next); }).join(',\n') + ',\n' + indent + '}';
}

function isEmptyConfig(config) { return !config || Object.keys(config).length === 0; }

function curlSnippet(p) {
  var body = { input: p.input };
  if (!isEmptyConfig(p.config)) body.config = p.config;
  var lines = ['curl -sS -X POST ' + shellQuote(p.url + '/invoke'), "  -H 'Content-Type: application/json'"];
  if (p.authRequired) lines.push('  -H "Authorization: Bearer $' + API_KEY_VARIABLE + '"');
  lines.push('  --data-binary ' + shellQuote(JSON.stringify(body)));
  return lines.join(' \\\n');
}

function jsSnippet(p) {
  var lines = [
    "// npm install @langchain/core@0.3   (RemoteRunnable ships with @langchain/core 0.3)",
    "import { RemoteRunnable } from '@langchain/core/runnables/remote';",
    '',
    'const runnable = new RemoteRunnable({',
    '  url: ' + jsQuote(p.url) + ',',
  ];
  if (p.authRequired) lines.push('  options: { headers: { Authorization: ' + "'Bearer ' + process.env." + API_KEY_VARIABLE + ' } },');
  lines.push('});');
  var args = JSON.stringify(p.input, null, 2);
  if (!isEmptyConfig(p.config)) args += ', ' + JSON.stringify(p.config, null, 2);
  lines.push('const output = await runnable.invoke(' + args + ');');
  lines.push('console.log(output);');
  return lines.join('\n');
}

function pythonSnippet(p) {
  var lines = [];
  if (p.authRequired) lines.push('import os', '');
  lines.push('from langserve import RemoteRunnable', '');
  if (p.authRequired) {
    lines.push('runnable = RemoteRunnable(', '    ' + JSON.stringify(p.url) + ',', '    headers={"Authorization": "Bearer " + os.environ["' + API_KEY_VARIABLE + '"]},', ')');
  } else {
    lines.push('runnable = RemoteRunnable(' + JSON.stringify(p.url) + ')');
  }
  var args = toPython(p.input);
  if (!isEmptyConfig(p.config)) args += ', config=' + toPython(p.config);
  lines.push('output = runnable.invoke(' + args + ')', 'print(output)');
  return lines.join('\n');
}

function buildSnippets(p) {
  return { curl: curlSnippet(p), js: jsSnippet(p), python: pythonSnippet(p) };
}
`;
