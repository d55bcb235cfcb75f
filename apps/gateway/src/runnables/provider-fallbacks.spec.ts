import { AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { withProviderFallbacks } from './provider-fallbacks';

/** A provider answering every call with an HTTP error of `status`. */
class RefusingModel extends FakeListChatModel {
  calls = 0;
  constructor(private readonly status: number) {
    super({ responses: ['never'] });
  }
  override async _generate(): Promise<never> {
    this.calls++;
    throw Object.assign(new Error(`HTTP ${this.status}`), { status: this.status });
  }
}

describe('withProviderFallbacks', () => {
  const run = async (status: number, input: unknown) => {
    const first = new RefusingModel(status);
    const second = new FakeListChatModel({ responses: ['from the second provider'] });
    const fallbacks: string[] = [];
    const chat = withProviderFallbacks([{ model: first, provider: 'openai' }, { model: second, provider: 'anthropic' }], (from, to) => fallbacks.push(`${from}->${to}`));
    const outcome = await chat.invoke(input as never).then((m: AIMessageChunk) => String(m.content), (e: Error) => `refused: ${e.message}`);
    return { outcome, fallbacks };
  };

  it.each([
    ['a string', 'hello'],
    ['a message list', [new HumanMessage('hello')]],
  ])('a 400 about the request does not fall back, whatever the input form (%s)', async (_form, input) => {
    expect(await run(400, input)).toEqual({ outcome: 'refused: HTTP 400', fallbacks: [] });
  });

  it.each([
    ['a string', 'hello'],
    ['a message list', [new HumanMessage('hello')]],
  ])('a 401 from the provider falls back and is reported (%s)', async (_form, input) => {
    expect(await run(401, input)).toEqual({ outcome: 'from the second provider', fallbacks: ['openai->anthropic'] });
  });

  it('one message list shared by two concurrent runs: each run keeps its own failure', async () => {
    const shared = [new HumanMessage('hello')];
    const [a, b] = await Promise.all([run(400, shared), run(401, shared)]);
    expect(a).toEqual({ outcome: 'refused: HTTP 400', fallbacks: [] });
    expect(b).toEqual({ outcome: 'from the second provider', fallbacks: ['openai->anthropic'] });
  });
});
