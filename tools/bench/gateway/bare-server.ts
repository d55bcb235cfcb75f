/**
 * Baseline servers for the gateway benchmark (tools/bench/gateway/run.ts): no routing, auth, validation,
 * metrics or logging. Bundled on its own (build.ts bundleChildEntry) and run as `node bare-server.cjs <mode>`:
 *
 *   langchain    reads the body, JSON.parse, `new EchoRunnable().invoke(input)` (the gateway's own class,
 *                bundled from apps/gateway/src/runnables/echo-runnable.ts; path in ECHO_RUNNABLE_BUNDLE),
 *                replies `{output, metadata: {run_id, feedback_tokens: []}}` like /invoke.
 *   lambda       the lambda comparison's control: serves the runnables of RUNNABLES_MODULE
 *                (lambda-runnables.cjs: the same module, so the same objects, the gateway gets).
 *                POST /<path>/invoke: JSON.parse, `runnable.invoke(input)`, JSON.stringify
 *                `{output, metadata: {run_id, feedback_tokens: []}}`.
 *                POST /<path>/stream: `for await (const c of await runnable.stream(input))` as SSE in the
 *                gateway's frames (`event: metadata`, `event: data` per chunk, `event: end`). No auth,
 *                validation, config, metrics or timeout.
 *   echo         reads the body, JSON.parse, replies `{output: input}`; no LangChain.
 *   hold-stream  the open-streams control: POST /hold/stream runs RUNNABLES_MODULE's (hold-runnables.cjs)
 *                `hold` with `runnable.stream(input, {signal})` (signal aborted when the client goes) and
 *                writes the chunks as SSE; POST /hold_stats/invoke returns its counters. No auth,
 *                validation, metrics, pinger or timeout.
 *
 * Env: PORT, HOST (default 127.0.0.1). Exits on SIGTERM/SIGINT via process.exit so --cpu-prof is written.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';

interface Runnable {
  invoke(input: unknown): Promise<unknown>;
  stream(input: unknown, options?: { signal?: AbortSignal }): Promise<AsyncIterable<unknown>>;
}
type Mode = 'langchain' | 'lambda' | 'echo' | 'hold-stream';
const MODES: Mode[] = ['langchain', 'lambda', 'echo', 'hold-stream'];

const mode = process.argv[2] as Mode;
if (!MODES.includes(mode)) {
  process.stderr.write(`usage: bare-server.cjs ${MODES.join('|')}\n`);
  process.exit(2);
}

let runnable: Runnable | undefined;
const routes: Record<string, Runnable> = {};
if (mode === 'langchain') {
  const { EchoRunnable } = require(process.env.ECHO_RUNNABLE_BUNDLE!) as { EchoRunnable: new () => Runnable };
  runnable = new EchoRunnable();
}
if (mode === 'lambda' || mode === 'hold-stream') {
  (require(process.env.RUNNABLES_MODULE!) as { register(r: { addRoutes(r: Runnable, o: { path: string }): void }): void }).register({ addRoutes: (r, { path }) => (routes[path] = r) });
}

const sse = (event: string, data?: unknown) => `event: ${event}\r\n${data === undefined ? '' : `data: ${JSON.stringify(data)}\r\n`}\r\n`;

/** The gateway's SSE frames around `stream`, with nothing else. */
async function writeStream(res: http.ServerResponse, stream: AsyncIterable<unknown>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.write(sse('metadata', { run_id: randomUUID() }));
  for await (const chunk of stream) res.write(sse('data', chunk));
  res.end(sse('end'));
}

async function holdStream(res: http.ServerResponse, input: unknown): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  try {
    await writeStream(res, await routes.hold.stream(input, { signal: controller.signal }));
  } catch {
    res.destroy();
  }
}

/** The lambda control's stream. */
async function lambdaStream(res: http.ServerResponse, target: Runnable, input: unknown): Promise<void> {
  try {
    await writeStream(res, await target.stream(input));
  } catch (err) {
    if (res.headersSent) res.destroy();
    else send(res, 500, { detail: String((err as Error)?.message ?? err) });
  }
}

function invokeAndSend(res: http.ServerResponse, target: Runnable, input: unknown): void {
  target.invoke(input).then(
    (output) => send(res, 200, { output, metadata: { run_id: randomUUID(), feedback_tokens: [] } }),
    (err: Error) => send(res, 500, { detail: String(err?.message ?? err) }),
  );
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let input: unknown;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8')).input;
    } catch {
      return send(res, 400, { detail: 'Malformed JSON body' });
    }
    if (mode === 'echo') return send(res, 200, { output: input });
    if (mode === 'lambda') {
      // '/<path>/<endpoint>': the benchmark's paths are one segment
      const url = req.url!; // always set on a server's requests
      const slash = url.indexOf('/', 1);
      const route = routes[url.slice(1, slash)];
      const endpoint = url.slice(slash + 1);
      if (slash < 0 || !route || (endpoint !== 'invoke' && endpoint !== 'stream')) return send(res, 404, { detail: 'Not Found' });
      if (endpoint === 'stream') return void lambdaStream(res, route, input);
      return invokeAndSend(res, route, input);
    }
    if (mode === 'hold-stream') {
      if (req.url === '/hold_stats/invoke') return void routes.hold_stats.invoke(null).then((output) => send(res, 200, { output }));
      return void holdStream(res, input);
    }
    invokeAndSend(res, runnable!, input);
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
