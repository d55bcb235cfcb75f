import { validate } from '@langchain/langgraph-checkpoint-validation';
import { PostgresServer } from '@runnel/testing';
import { Pool } from 'pg';
import { RunStampedSaver } from './run-stamped-saver';

/**
 * RunStampedSaver writes checkpoints itself (one statement per put/putWrites, run-stamped
 * metadata), so it must pass LangGraph's own conformance suite for checkpointers. Each
 * checkpointer gets a database of its own (the suite's list tests need isolation).
 */
// The suite is written for vitest and uses expect.soft once; jest's hard expect is the stricter stand-in.
(expect as unknown as { soft: typeof expect }).soft = expect;

let server: PostgresServer;
let next = 0;
const pools = new Map<RunStampedSaver, Pool>();

validate<RunStampedSaver>({
  checkpointerName: 'RunStampedSaver',
  beforeAllTimeout: 60_000,
  async beforeAll() {
    server = await PostgresServer.start();
  },
  async afterAll() {
    await server?.stop();
  },
  async createCheckpointer() {
    const pool = new Pool({ connectionString: await server.createDatabase(`validation_${next++}`) });
    const saver = new RunStampedSaver(pool);
    await saver.setup();
    pools.set(saver, pool);
    return saver;
  },
  async destroyCheckpointer(saver) {
    await pools.get(saver)?.end();
    pools.delete(saver);
  },
});
