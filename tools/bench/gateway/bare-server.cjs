'use strict';
/**
 * Baseline servers for tools/bench/gateway/run.mjs: no routing, auth, validation, metrics or logging.
 *
 *   node bare-server.cjs langchain   reads the body, JSON.parse, `new EchoRunnable().invoke(input)` (the
 *                                    gateway's own class, bundled from apps/gateway/src/runnables/
 *                                    echo-runnable.ts by run.mjs; path in ECHO_RUNNABLE_BUNDLE), replies
 *                                    `{output, metadata: {run_id, feedback_tokens: []}}` like /invoke.
 *   node bare-server.cjs lambda      the lambda comparison's control: serves lambda-runnables.cjs's runnables
 *                                    (the same objects the gateway gets as RUNNABLES_MODULE).
 *                                    POST /<path>/invoke: JSON.parse, `runnable.invoke(input)`, JSON.stringify
 *                                    `{output, metadata: {run_id, feedback_tokens: []}}`.
 *                                    POST /<path>/stream: `for await (const c of await runnable.stream(input))`
 *                                    as SSE in the gateway's frames (`event: metadata`, `event: data` per
 *                                    chunk, `event: end`). No auth, validation, config, metrics or timeout.
 *   node bare-server.cjs echo        reads the body, JSON.parse, replies `{output: input}`; no LangChain.
 *   node bare-server.cjs hold-stream the open-streams control: POST /hold/stream runs hold-runnables.cjs's
 *                                    `hold` with `runnable.stream(input, {signal})` (signal aborted when the
 *                                    client goes) and writes the chunks as SSE; POST /hold_stats/invoke
 *                                    returns its counters. No auth, validation, metrics, pinger or timeout.
 *
 * Env: PORT, HOST (default 127.0.0.1). Exits on SIGTERM/SIGINT via process.exit so --cpu-prof is written.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');

const mode = process.argv[2];
if (!['langchain', 'lambda', 'echo', 'hold-stream'].includes(mode)) {
  process.stderr.write('usage: bare-server.cjs langchain|lambda|echo|hold-stream\n');
  process.exit(2);
}

let runnable;
const routes = {};
if (mode === 'langchain') {
  const { EchoRunnable } = require(/** @type {string} */ (process.env.ECHO_RUNNABLE_BUNDLE));
  runnable = new EchoRunnable();
}
if (mode === 'lambda') {
  require('./lambda-runnables.cjs').register({ addRoutes: (r, { path }) => (routes[path] = r) });
}
if (mode === 'hold-stream') {
  require('./hold-runnables.cjs').register({ addRoutes: (r, { path }) => (routes[path] = r) });
}

async function holdStream(req, res, input) {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  try {
    const stream = await routes.hold.stream(input, { signal: controller.signal });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(`event: metadata\r\ndata: ${JSON.stringify({ run_id: randomUUID() })}\r\n\r\n`);
    for await (const chunk of stream) res.write(`event: data\r\ndata: ${JSON.stringify(chunk)}\r\n\r\n`);
    res.end('event: end\r\n\r\n');
  } catch {
    res.destroy();
  }
}

/** The lambda control's stream: the gateway's SSE frames, with nothing else around the runnable. */
async function lambdaStream(res, runnable, input) {
  try {
    const stream = await runnable.stream(input);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(`event: metadata\r\ndata: ${JSON.stringify({ run_id: randomUUID() })}\r\n\r\n`);
    for await (const chunk of stream) res.write(`event: data\r\ndata: ${JSON.stringify(chunk)}\r\n\r\n`);
    res.end('event: end\r\n\r\n');
  } catch (/** @type {any} */ err) {
    if (res.headersSent) res.destroy();
    else send(res, 500, { detail: String(err?.message ?? err) });
  }
}

function invokeAndSend(res, target, input) {
  target.invoke(input).then(
    (output) => send(res, 200, { output, metadata: { run_id: randomUUID(), feedback_tokens: [] } }),
    (err) => send(res, 500, { detail: String(err?.message ?? err) }),
  );
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let input;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8')).input;
    } catch {
      return send(res, 400, { detail: 'Malformed JSON body' });
    }
    if (mode === 'echo') return send(res, 200, { output: input });
    if (mode === 'lambda') {
      // '/<path>/<endpoint>': the benchmark's paths are one segment
      const url = /** @type {string} */ (req.url); // always set on a server's requests
      const slash = url.indexOf('/', 1);
      const route = routes[url.slice(1, slash)];
      const endpoint = url.slice(slash + 1);
      if (slash < 0 || !route || (endpoint !== 'invoke' && endpoint !== 'stream')) return send(res, 404, { detail: 'Not Found' });
      if (endpoint === 'stream') return void lambdaStream(res, route, input);
      return void invokeAndSend(res, route, input);
    }
    if (mode === 'hold-stream') {
      if (req.url === '/hold_stats/invoke') return routes.hold_stats.invoke(null).then((output) => send(res, 200, { output }));
      return void holdStream(req, res, input);
    }
    invokeAndSend(res, runnable, input);
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
