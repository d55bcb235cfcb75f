import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { eventually, LangGraphReferenceServer } from '@runnel/testing';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

/**
 * The two targets of the conformance specs: the gateway (real redis-server and PostgreSQL) and the
 * reference (`@langchain/langgraph-api`'s dev server), serving the same fixture graphs under the
 * same ids, both read through the official SDK Client. Each spec file starts both once.
 */

const FIXTURES = join(__dirname, '../../src/agents/execution/fixtures');

/** Graph id → fixture (`file:export`), the same on both targets. */
export const GRAPHS = {
  two: './two-node.mjs:graph',
  chat: './chat.mjs:graph',
  ask: './interrupting.mjs:graph',
  slow: './slow.mjs:graph',
  notes: './store-writer.mjs:graph',
  recall: './store-reader.mjs:graph',
  typed: './typed-state.mjs:stateSchema',
  zodtyped: './typed-state.mjs:zodState',
  nestedtyped: './typed-state.mjs:nestedTyped',
} as const;
export type GraphId = keyof typeof GRAPHS;

export const TARGETS = ['gateway', 'reference'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface Target {
  name: TargetName;
  url: string;
  client: Client;
}

/** Starts both targets in this file's beforeAll (stopped in afterAll); the getter gives one by name. */
export function useTargets(graphIds: readonly GraphId[] = Object.keys(GRAPHS) as GraphId[]): (name: TargetName) => Target {
  const started: Partial<Record<TargetName, Target>> = {};
  let backends: AgentBackends | undefined;
  let gateway: (TestGateway & { client: Client }) | undefined;
  let reference: LangGraphReferenceServer | undefined;
  beforeAll(async () => {
    const graphs = Object.fromEntries(graphIds.map((id) => [id, GRAPHS[id]]));
    const startGateway = async () => {
      backends = await AgentBackends.start();
      gateway = await backends.gateway((registry) => {
        for (const [id, spec] of Object.entries(graphs)) {
          const [file, name] = spec.split(':');
          registry.addGraph(loadFixture<Record<string, object>>(file)[name], { graphId: id });
        }
      });
      started.gateway = { name: 'gateway', url: gateway.url, client: gateway.client };
    };
    const startReference = async () => {
      reference = await LangGraphReferenceServer.start({ graphs, cwd: FIXTURES, logLevel: 'warn' });
      started.reference = { name: 'reference', url: reference.url, client: new Client({ apiUrl: reference.url }) };
    };
    await Promise.all([startGateway(), startReference()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([gateway?.close(), reference?.stop()]);
    await backends?.stop();
  });
  return (name) => {
    const target = started[name];
    if (!target) throw new Error(`target ${name} did not start`);
    return target;
  };
}

export interface StreamPart {
  id?: string;
  event: string;
  data: any;
}

/** Every part of a stream; it must start with `metadata {run_id, attempt}` (every stream does). */
export async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  expect(parts[0]).toMatchObject({ event: 'metadata', data: { run_id: expect.any(String), attempt: 1 } });
  return parts;
}

export const dataOf = (parts: StreamPart[], event: string) => parts.filter((p) => p.event === event).map((p) => p.data);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 25 ms (libs/testing's eventually) until it returns a truthy value, or throws after `timeoutMs`. */
export const until = <T>(probe: () => Promise<T>, timeoutMs = 5_000, what = 'condition') => eventually(what, probe as () => Promise<NonNullable<T>>, timeoutMs, 25);

/** A fresh tag per call, for metadata filters that must see only this test's rows. */
export const tag = () => `t${Math.random().toString(36).slice(2, 10)}`;
