// What every load sends and how every answer is checked: one body for every server, the API key of the
// gateways this run starts, the targets the report judges by.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '@runnel/testing';

export const HERE = join(REPO_ROOT, 'tools/bench/gateway');

export const INPUT = { text: 'hello world', n: 42 };
export const BODY = JSON.stringify({ input: INPUT });
export const EXPECT_OUTPUT = `"output":${JSON.stringify(INPUT)}`;
export const TARGETS = { ratio: 0.8, p99Ms: 10, streamsRssMiB: 300 };

export const API_KEY = `bench-${randomBytes(12).toString('hex')}`;
export const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

export const LAMBDA_MODULE = join(HERE, 'lambda-runnables.cjs');
export const HOLD_MODULE = join(HERE, 'hold-runnables.cjs');
export const LAMBDA_CHUNKS = 8;
export const CRLF = '\r\n';

/** One load's target and body check: autocannon verifies every response's body. */
export interface Load {
  path: string;
  expectOutput: string;
  /** e.g. an SSE body must hold exactly 8 `event: data` frames. */
  expectCount?: { needle: string; count: number };
}

export const ECHO_LOAD: Load = { path: '/echo/invoke', expectOutput: EXPECT_OUTPUT };

/** What each lambda load POSTs and how every reply body is checked (autocannon verifyBody, every response). */
export const LAMBDA_LOADS = {
  invoke: { path: '/lambda/invoke', expectOutput: EXPECT_OUTPUT },
  stream: { path: '/lambda_chunks/stream', expectOutput: `event: end${CRLF}${CRLF}`, expectCount: { needle: `event: data${CRLF}`, count: LAMBDA_CHUNKS } },
} satisfies Record<string, Load>;
export type LambdaEndpoint = keyof typeof LAMBDA_LOADS;
export const LAMBDA_ENDPOINTS = Object.keys(LAMBDA_LOADS) as LambdaEndpoint[];

export function log(msg: string): void {
  process.stdout.write(`[bench] ${msg}\n`);
}
