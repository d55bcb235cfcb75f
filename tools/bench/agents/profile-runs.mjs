// Where the gateway's CPU goes per agent run: a `node --cpu-prof` profile of the gateway taken by
// `tools/bench/agents/run.ts --cpu-prof=DIR --json=RESULTS`, cut to each gateway measurement's span
// (CLOCK_MONOTONIC µs in RESULTS, the profile's own clock) and divided by that measurement's runs.
//
//   node tools/bench/agents/profile-runs.mjs DIR/<file>.cpuprofile RESULTS.json
//
// Each sample goes to one bucket by its stack: from the leaf up, the first frame of a known library
// names the library (pg, ioredis, node:http...), and the frames above it who called it (the
// checkpointer, BullMQ, the RunEventLog, our repositories). V8 stacks are synchronous: work resumed
// from a promise or a socket callback is counted where it resumed ("… (callback)").
import { readFileSync } from 'node:fs';

const [profileFile, resultsFile] = process.argv.slice(2);
if (!profileFile || !resultsFile) {
  console.error('usage: profile-runs.mjs <file.cpuprofile> <results.json>');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
const { results } = JSON.parse(readFileSync(resultsFile, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const frameUrl = (n) => n.callFrame.url ?? '';
const has = (stack, re) => stack.some((n) => re.test(frameUrl(n)) || re.test(n.callFrame.functionName));

/** The bucket of one sample, from its stack (leaf first). */
function bucket(leaf) {
  const name = leaf.callFrame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return null;
  if (name === '(program)') return '(program)';
  const stack = [];
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id));
  const caller = (libs) => {
    if (has(stack, /langgraph-checkpoint-postgres/)) return 'checkpointer (PostgresSaver)';
    if (has(stack, /bullmq/)) return 'BullMQ';
    if (has(stack, /run-event-log|RunEventLog/)) return 'RunEventLog';
    if (has(stack, /run-cancellation/)) return 'RunCancellation';
    if (has(stack, /agents\/storage|agents\/runs\/run-service/)) return 'run/thread repositories';
    return `${libs} (callback)`;
  };
  for (const n of stack) {
    const url = frameUrl(n);
    if (/node_modules\/(pg|pg-pool|pg-protocol|pg-types|postgres-)/.test(url) || /\/pg\/lib\//.test(url)) return `PostgreSQL client: ${caller('pg')}`;
    if (/ioredis|bullmq|redis-parser/.test(url)) return `Redis client: ${caller('ioredis')}`;
    if (/node:_http_|node:http/.test(url)) return 'HTTP server (node:http)';
  }
  if (has(stack, /@langchain\/(langgraph|core)|langsmith/)) return 'graph execution (langgraph, @langchain/core, langsmith)';
  if (has(stack, /apps\/gateway|dist\/apps\/gateway/)) return 'gateway code (other)';
  if (stack.some((n) => /write|writev|writeBuffer|writeUtf8String/.test(n.callFrame.functionName))) return 'socket writes (caller unknown)';
  return 'other';
}

const cache = new Map();
const bucketOf = (id) => {
  if (!cache.has(id)) cache.set(id, bucket(byId.get(id)));
  return cache.get(id);
};

// Sample timestamps (µs, the profile clock).
const times = new Float64Array(profile.samples.length);
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  times[i] = t;
}

for (const m of results.filter((r) => r.target === 'gateway')) {
  const sums = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i] < m.monoStartUs || times[i] > m.monoEndUs) continue;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const b = bucketOf(profile.samples[i]);
    if (b === null) continue;
    busy += dt;
    sums.set(b, (sums.get(b) ?? 0) + dt);
  }
  if (busy === 0) continue;
  console.log(`\ngateway ${m.scenario} round ${m.round}: ${m.runs} runs, ${busy.toFixed(0)} ms busy in the profile = ${(busy / m.runs).toFixed(2)} ms per run`);
  for (const [b, ms] of [...sums].sort((a, c) => c[1] - a[1])) {
    console.log(`  ${(ms / m.runs).toFixed(2).padStart(6)} ms/run  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${b}`);
  }
}
