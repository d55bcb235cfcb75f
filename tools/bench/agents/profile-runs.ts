// Where the gateway's CPU goes per agent run: a `node --cpu-prof` profile of the gateway taken by
// `tools/bench/agents/run.ts --cpu-prof=DIR --json=RESULTS`, cut to each gateway measurement's span
// (CLOCK_MONOTONIC µs in RESULTS, the profile's own clock) and divided by that measurement's runs.
//
//   node tools/dev/run-ts.mjs tools/bench/agents/profile-runs.ts DIR/<file>.cpuprofile RESULTS.json
//
// Each sample goes to one bucket by its stack: from the leaf up, the first frame of a known library
// names the library (pg, ioredis, node:http...), and the frames above it who called it (the
// checkpointer, BullMQ, the RunEventLog, our repositories). V8 stacks are synchronous: work resumed
// from a promise or a socket callback is counted where it resumed ("… (callback)").
import { readFileSync } from 'node:fs';
import { CommandLine } from '@runnel/testing';
import type { CpuProfile, ProfileNode } from '../gateway/profile-summary';
import type { Measurement } from './measure';

const frameUrl = (n: ProfileNode) => n.callFrame.url ?? '';
const has = (stack: ProfileNode[], re: RegExp) => stack.some((n) => re.test(frameUrl(n)) || re.test(n.callFrame.functionName));

/** Who called a library, from the stack above it. */
function caller(stack: ProfileNode[], lib: string): string {
  if (has(stack, /langgraph-checkpoint-postgres/)) return 'checkpointer (PostgresSaver)';
  if (has(stack, /bullmq/)) return 'BullMQ';
  if (has(stack, /run-event-log|RunEventLog/)) return 'RunEventLog';
  if (has(stack, /run-cancellation/)) return 'RunCancellation';
  if (has(stack, /agents\/storage|agents\/runs\/run-service/)) return 'run/thread repositories';
  return `${lib} (callback)`;
}

/** The bucket of one sample, from its stack (leaf first); null for idle. */
function bucket(stack: ProfileNode[]): string | null {
  const name = stack[0].callFrame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return null;
  if (name === '(program)') return '(program)';
  for (const n of stack) {
    const url = frameUrl(n);
    if (/node_modules\/(pg|pg-pool|pg-protocol|pg-types|postgres-)/.test(url) || /\/pg\/lib\//.test(url)) return `PostgreSQL client: ${caller(stack, 'pg')}`;
    if (/ioredis|bullmq|redis-parser/.test(url)) return `Redis client: ${caller(stack, 'ioredis')}`;
    if (/node:_http_|node:http/.test(url)) return 'HTTP server (node:http)';
  }
  if (has(stack, /@langchain\/(langgraph|core)|langsmith/)) return 'graph execution (langgraph, @langchain/core, langsmith)';
  if (has(stack, /apps\/gateway|dist\/apps\/gateway/)) return 'gateway code (other)';
  if (stack.some((n) => /write|writev|writeBuffer|writeUtf8String/.test(n.callFrame.functionName))) return 'socket writes (caller unknown)';
  return 'other';
}

function main(): number {
  const [profileFile, resultsFile] = new CommandLine().positional;
  if (!profileFile || !resultsFile) {
    console.error('usage: profile-runs.ts <file.cpuprofile> <results.json>');
    return 2;
  }
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const { results } = JSON.parse(readFileSync(resultsFile, 'utf8')) as { results: Measurement[] };

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string | null>();
  const bucketOf = (id: number) => {
    if (!cache.has(id)) {
      const stack: ProfileNode[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
      cache.set(id, bucket(stack));
    }
    return cache.get(id)!;
  };

  // Sample timestamps (µs, the profile clock).
  const times = new Float64Array(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    times[i] = t;
  }

  for (const m of results.filter((r) => r.target === 'gateway')) {
    const sums = new Map<string, number>();
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
  return 0;
}

process.exitCode = main();
