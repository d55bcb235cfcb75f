import { InvokeRequest, parseInvokeRequest, parseRequest } from './request-schemas';

const outcome = (parse: () => InvokeRequest) => {
  try {
    const body = parse();
    return { input: body.input, config: body.config };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe('parseInvokeRequest', () => {
  it('gives what parseRequest(InvokeRequest, …) gives, for the input and config the endpoints read', () => {
    const bodies: unknown[] = [
      { input: { text: 'hi', n: 1 } },
      { input: 0 },
      { input: null, config: null },
      { input: 'x', kwargs: { a: 1 } },
      { input: 'x', config: { configurable: { k: 1 } } },
      { input: 'x', config: [] },
      { input: 'x', config: 'nope' },
      { input: 'x', extra: 1 },
      { config: {} },
      {},
      JSON.parse('{"input": 1, "__proto__": {"config": 2}}'),
      Object.assign(Object.create(null), { input: 1 }),
      [],
      null,
      'text',
    ];
    for (const body of bodies) expect([body, outcome(() => parseInvokeRequest(body))]).toEqual([body, outcome(() => parseRequest(InvokeRequest, body))]);
  });
});
