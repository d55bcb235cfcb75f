/**
 * Page script: intermediate steps from `/stream_log`. Applies the RunLogPatch JSON-patch ops to the
 * run state (`{id, name, type, streamed_output, final_output, logs}`) and renders the runs as a tree.
 *
 * LangServe's log entries carry no parent run id, so the page works the nesting out from the order
 * of the patches. A run starts after its parent starts and ends (its `end_time` patch) before its
 * parent ends, so its parent is one of the runs whose start…end span holds its own; of those, the
 * one that ended first (ancestors' spans nest, so that is the innermost). In a streaming sequence
 * the next step starts before the previous one ends: siblings' spans overlap but do not nest.
 * Parallel branches (tagged `map:key:…`) overlap freely, so for a branch only a
 * RunnableMap/RunnableParallel span counts; a run inside overlapping branches goes to the branch
 * that ended first after it, which can be wrong when a sibling branch is both shorter and holds it.
 * While runs are open the tree is a guess (an open span holds every later run; the latest-started
 * one wins); it is recomputed on every redraw and settled once the runs have ended.
 */
export const RUN_TREE_SCRIPT = String.raw`
function newRunLog() { return { state: null, order: [], spans: {}, seq: 0, ended: false, failed: false, open: {} }; }

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

function isBranchRun(entry) {
  var tags = (entry && entry.tags) || [];
  return tags.some(function (t) { return typeof t === 'string' && t.indexOf('map:key:') === 0; });
}

// Whether span a holds span b (b started later); an open span (end Infinity) holds anything started after it.
function spanHolds(a, b) { return a.start < b.start && (a.end === Infinity || (b.end !== Infinity && a.end > b.end)); }

/** Each run's parent key ('' is the root run), from the patch-order spans. */
function runParents(log) {
  var parents = {};
  var logs = (log.state && log.state.logs) || {};
  for (var i = 0; i < log.order.length; i++) {
    var key = log.order[i];
    var span = log.spans[key];
    var branch = isBranchRun(logs[key]);
    var best = '', bestSpan = null;
    for (var j = i - 1; j >= 0; j--) {
      var other = log.order[j], otherSpan = log.spans[other];
      if (!spanHolds(otherSpan, span)) continue;
      if (branch && !/^Runnable(Map|Parallel)/.test((logs[other] && logs[other].name) || '')) continue;
      if (!bestSpan || otherSpan.end < bestSpan.end || (otherSpan.end === bestSpan.end && otherSpan.start > bestSpan.start)) { best = other; bestSpan = otherSpan; }
    }
    parents[key] = best;
  }
  return parents;
}

function applyRunLogPatch(log, ops) {
  for (var i = 0; i < ops.length; i++) {
    var op = ops[i];
    var at = ++log.seq;
    var tokens = pointerTokens(op.path);
    if (tokens[0] === 'logs' && tokens.length >= 2 && op.op !== 'remove') {
      var key = tokens[1];
      if (tokens.length === 2 && !log.spans[key]) {
        log.order.push(key);
        log.spans[key] = { start: at, end: op.value && op.value.end_time ? at : Infinity };
      } else if (tokens.length === 3 && tokens[2] === 'end_time' && log.spans[key] && op.value) {
        log.spans[key].end = at;
      }
    }
    log.state = applyPatchOp(log.state, op);
  }
}

function runStatus(log, entry, isRoot) {
  if (isRoot ? log.ended : entry.end_time) return 'done';
  return log.failed ? 'failed' : 'running';
}

var MAX_STEP_OUTPUT = 4000;
// Child runs log a non-object output as {output: X} (LangChain's callback form); the tree shows X.
function shownOutput(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    var keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'output') return value.output;
  }
  return value;
}

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
    out.textContent = shortJson(isRoot ? entry.final_output : shownOutput(entry.final_output));
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
  var parents = runParents(log);
  for (var i = 0; i < log.order.length; i++) {
    var key = log.order[i];
    if (!log.state.logs || !log.state.logs[key]) continue;
    (children[parents[key]] = children[parents[key]] || []).push(key);
  }
  container.appendChild(runNode(log, '', log.state, children, 0));
}
`;
