'use strict';
/**
 * Baseline servers for tools/bench/gateway/run.mjs: no routing, auth, validation, metrics or logging.
 *
 *   node bare-server.cjs langchain   reads the body, JSON.parse, `new EchoRunnable().invoke(input)` (the
 *                                    gateway's own class, bundled from apps/gateway/src/runnables/
 *                                    echo-runnable.ts by run.mjs; path in ECHO_RUNNABLE_BUNDLE), replies
 *                                    `{output, metadata: {run_id, feedback_tokens: []}}` like /invoke.
 *   node bare-server.cjs echo        reads the body, JSON.parse, replies `{output: input}`; no LangChain.
 *
 * Env: PORT, HOST (default 127.0.0.1). Exits on SIGTERM/SIGINT via process.exit so --cpu-prof is written.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');

const mode = process.argv[2];
if (mode !== 'langchain' && mode !== 'echo') {
  process.stderr.write('usage: bare-server.cjs langchain|echo\n');
  process.exit(2);
}

let runnable;
if (mode === 'langchain') {
  const { EchoRunnable } = require(process.env.ECHO_RUNNABLE_BUNDLE);
  runnable = new EchoRunnable();
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
    runnable.invoke(input).then(
      (output) => send(res, 200, { output, metadata: { run_id: randomUUID(), feedback_tokens: [] } }),
      (err) => send(res, 500, { detail: String(err?.message ?? err) }),
    );
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
