import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { LangGraphReferenceServer } from './langgraph-reference-server';

const fixtures = join(__dirname, 'fixtures/langgraph');

describe('LangGraphReferenceServer', () => {
  it('serves a graph through the SDK client as a child process, and stop() ends it and its state', async () => {
    const started = Date.now();
    const server = await LangGraphReferenceServer.start({ graphs: { echo: './echo-graph.mjs:graph' }, cwd: fixtures });
    const startMs = Date.now() - started;
    try {
      console.log(`LangGraph reference server (pid ${server.pid}) answered /ok after ${startMs} ms`);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.pid).not.toBe(process.pid);
      const client = new Client({ apiUrl: server.url });
      const assistants = await client.assistants.search({ graphId: 'echo' });
      expect(assistants.map((a) => a.graph_id)).toEqual(['echo']);
      const thread = await client.threads.create();
      expect(await client.runs.wait(thread.thread_id, 'echo', { input: { count: 1 } })).toEqual({ count: 2 });
      expect((await client.threads.getState(thread.thread_id)).values).toEqual({ count: 2 });
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
    expect(() => process.kill(server.pid!, 0)).toThrow();
    // Nothing of its persistence lands beside the graphs.
    expect(existsSync(join(fixtures, '.langgraph_api'))).toBe(false);
    await expect(fetch(`${server.url}/ok`)).rejects.toThrow();
  });
});
