/**
 * Page script: intermediate steps from `/stream_log`. Applies the RunLogPatch JSON-patch ops to the
 * run state (`{id, name, type, streamed_output, final_output, logs}`) and renders the runs as a tree.
 *
 * LangServe's log entries carry no parent run id, so the page nests each run under the innermost
 * run still open (no `end_time`) when it started — exact for sequences and nested chains. Branches
 * of a RunnableParallel (tagged `map:key:…`) run at once, so for them the innermost open
 * RunnableMap/RunnableParallel is the parent instead of a sibling branch that happens to be open.
 */
export const RUN_TREE_SCRIPT = String.raw`
function newRunLog() { return { state: null, order: [], parents: {}, ended: false, failed: false, open: {} }; }

function pointerTokens(path) {
  if (path === '') return [];
  return path.slice(1).split('/').map(function (t) { return t.replace(/~1/g, '/').replace(/~0/g, '~'); });
}

function applyPatchOp(doc, op) {
  var tokens = pointerTokens(op.path);
  if (!tokens.length) return op.op === 'remove' ? null : op.value;
  var parent = doc;
  for (var i = 0; i < tokens.length - 1; i++) {
    if (parent === null || typeof parent !== 'object') return doc;
    parent = parent[tokens[i]];
  }
  if (parent === null || typeof parent !== 'object') return doc;
  var last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    var index = last === '-' ? parent.length : Number(last);
    if (op.op === 'add') parent.splice(index, 0, op.value);
    else if (op.op === 'replace') parent[index] = op.value;
    else if (op.op === 'remove') parent.splice(index, 1);
  } else if (op.op === 'add' || op.op === 'replace') {
    parent[last] = op.value;
  } else if (op.op === 'remove') {
    delete parent[last];
  }
  return doc;
}

function isOpenRun(log, key) {
  var entry = log.state && log.state.logs && log.state.logs[key];
  return !!entry && (entry.end_time === null || entry.end_time === undefined);
}

// The run a newly started entry belongs to: '' is the root run.
function parentForNewRun(log, entry) {
  var tags = (entry && entry.tags) || [];
  var isBranch = tags.some(function (t) { return typeof t === 'string' && t.indexOf('map:key:') === 0; });
  var innermost = '';
  for (var i = log.order.length - 1; i >= 0; i--) {
    var key = log.order[i];
    if (!isOpenRun(log, key)) continue;
    if (!isBranch) return key;
    if (!innermost) innermost = key;
    var name = log.state.logs[key].name || '';
    if (/^Runnable(Map|Parallel)/.test(name)) return key;
  }
  return innermost;
}

function applyRunLogPatch(log, ops) {
  for (var i = 0; i < ops.length; i++) {
    var op = ops[i];
    var tokens = pointerTokens(op.path);
    var isNewRun = tokens.length === 2 && tokens[0] === 'logs' && op.op === 'add' && !(log.state && log.state.logs && tokens[1] in log.state.logs);
    if (isNewRun) {
      log.parents[tokens[1]] = parentForNewRun(log, op.value);
      log.order.push(tokens[1]);
    }
    log.state = applyPatchOp(log.state, op);
  }
}

function runStatus(log, entry, isRoot) {
  if (isRoot ? log.ended : entry.end_time) return 'done';
  return log.failed ? 'failed' : 'running';
}

var MAX_STEP_OUTPUT = 4000;
function shortJson(value) {
  var text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  if (text === undefined) text = String(value);
  return text.length > MAX_STEP_OUTPUT ? text.slice(0, MAX_STEP_OUTPUT) + '\n… (' + (text.length - MAX_STEP_OUTPUT) + ' more characters)' : text;
}

function runNode(log, key, entry, children, depth) {
  var isRoot = key === '';
  var details = document.createElement('details');
  details.className = 'run';
  details.dataset.run = isRoot ? '(root)' : key;
  var status = runStatus(log, entry, isRoot);
  details.dataset.status = status;
  details.open = key in log.open ? log.open[key] : depth < 2;
  details.addEventListener('toggle', function () { log.open[key] = details.open; });
  var summary = document.createElement('summary');
  var name = document.createElement('span'); name.className = 'run-name'; name.textContent = entry.name || key || 'run';
  var type = document.createElement('span'); type.className = 'badge'; type.textContent = entry.type || 'run';
  var state = document.createElement('span'); state.className = 'badge status-' + status; state.textContent = status;
  summary.append(name, ' ', type, ' ', state);
  details.appendChild(summary);
  if (entry.final_output !== null && entry.final_output !== undefined) {
    var out = document.createElement('pre'); out.className = 'run-output';
    out.setAttribute('aria-label', 'Output of ' + (entry.name || key || 'run'));
    out.textContent = shortJson(entry.final_output);
    details.appendChild(out);
  }
  var kids = children[key] || [];
  if (kids.length) {
    var list = document.createElement('ul'); list.className = 'run-children';
    for (var i = 0; i < kids.length; i++) {
      var li = document.createElement('li');
      li.appendChild(runNode(log, kids[i], log.state.logs[kids[i]], children, depth + 1));
      list.appendChild(li);
    }
    details.appendChild(list);
  }
  return details;
}

function renderRunTree(log, container) {
  container.textContent = '';
  if (!log.state) return;
  var children = {};
  for (var i = 0; i < log.order.length; i++) {
    var key = log.order[i];
    if (!log.state.logs || !log.state.logs[key]) continue;
    (children[log.parents[key]] = children[log.parents[key]] || []).push(key);
  }
  container.appendChild(runNode(log, '', log.state, children, 0));
}
`;
