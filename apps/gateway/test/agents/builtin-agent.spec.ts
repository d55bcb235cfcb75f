import type { Client } from '@langchain/langgraph-sdk';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

type Msg = { type: string; content: unknown; tool_calls?: { name: string }[]; name?: string };

/** The graph `npm start` serves: a chat agent with memory on the gateway's chat model (here the local one) with one tool. */
describe('built-in agent', () => {
  let backends: AgentBackends;
  let gw: TestGateway & { client: Client };

  beforeAll(async () => {
    backends = await AgentBackends.start();
    gw = await backends.gateway(() => undefined, { DISABLE_BUILTINS: 'false' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await backends?.stop();
  });

  it('calls current_time when asked the time, answers from the tool, and remembers the thread, also after a restart', async () => {
    const { client } = gw;
    expect((await client.assistants.search({ graphId: 'agent' })).length).toBe(1);
    const thread = await client.threads.create();
    const first = (await client.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'What time is it?' }] } })) as { messages: Msg[] };
    const types = first.messages.map((m) => m.type);
    expect(types).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(first.messages[1].tool_calls?.map((c) => c.name)).toEqual(['current_time']);
    expect(first.messages[2].name).toBe('current_time');
    expect(String(first.messages[3].content)).toMatch(/^\[runnel local model\] current_time says: .*\d{4}/);

    const second = (await client.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'hello again' }] } })) as { messages: Msg[] };
    expect(second.messages.length).toBe(6);
    expect(second.messages.at(-1)?.content).toBe('[runnel local model] You said: hello again');
    await client.store.putItem(['users', 'ada'], 'prefs', { theme: 'dark' });

    // A new gateway process on the same PostgreSQL: the thread, its checkpoints and the store are all there.
    await gw.close();
    gw = await backends.gateway(() => undefined, { DISABLE_BUILTINS: 'false' });
    const again = gw.client;
    expect((await again.threads.get(thread.thread_id)).status).toBe('idle');
    expect(((await again.threads.getState(thread.thread_id)).values as { messages: Msg[] }).messages.length).toBe(6);
    expect((await again.threads.getHistory(thread.thread_id, { limit: 100 })).length).toBeGreaterThan(6);
    expect((await again.store.getItem(['users', 'ada'], 'prefs'))?.value).toEqual({ theme: 'dark' });
    const third = (await again.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'still there?' }] } })) as { messages: Msg[] };
    expect(third.messages.length).toBe(8);
  });
});
