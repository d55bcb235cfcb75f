import { parseScopes, parseTokenScopes, ScopeError, Scopes } from './scopes';

const WHERE = 'test keys, key 1 ("bot")';

describe('parseScopes / Scopes.allows', () => {
  it('an exact runnable and endpoint allows that pair only', () => {
    const s = parseScopes(['echo:invoke'], WHERE);
    expect(s.allows('echo', 'invoke')).toBe(true);
    expect(s.allows('echo', 'batch')).toBe(false);
    expect(s.allows('chat', 'invoke')).toBe(false);
    expect(s.allows('echo2', 'invoke')).toBe(false);
    expect(s.allows('echo/sub', 'invoke')).toBe(false);
  });

  it('* as runnable matches every path, multi-segment ones included', () => {
    const s = parseScopes(['*:stream'], WHERE);
    expect(s.allows('echo', 'stream')).toBe(true);
    expect(s.allows('agents/support/v2', 'stream')).toBe(true);
    expect(s.allows('echo', 'invoke')).toBe(false);
  });

  it('* as endpoint matches every endpoint', () => {
    const s = parseScopes(['echo:*'], WHERE);
    for (const e of ['invoke', 'batch', 'stream', 'stream_log', 'stream_events', 'input_schema', 'playground']) {
      expect(s.allows('echo', e)).toBe(true);
    }
    expect(s.allows('chat', 'invoke')).toBe(false);
  });

  it('a multi-segment path is matched exactly', () => {
    const s = parseScopes(['agents/support:invoke'], WHERE);
    expect(s.allows('agents/support', 'invoke')).toBe(true);
    expect(s.allows('agents', 'invoke')).toBe(false);
    expect(s.allows('agents/support/v2', 'invoke')).toBe(false);
    expect(s.allows('agents/supportX', 'invoke')).toBe(false);
  });

  it('prefix/* matches paths below the prefix at any depth, not the prefix itself nor a longer sibling name', () => {
    const s = parseScopes(['agents/*:invoke'], WHERE);
    expect(s.allows('agents/support', 'invoke')).toBe(true);
    expect(s.allows('agents/support/v2', 'invoke')).toBe(true);
    expect(s.allows('agents', 'invoke')).toBe(false);
    expect(s.allows('agentsX/support', 'invoke')).toBe(false);
    expect(s.allows('agents/support', 'batch')).toBe(false);
  });

  it('groups: run is the five run endpoints, schema the three schemas', () => {
    const run = parseScopes(['echo:run'], WHERE);
    for (const e of ['invoke', 'batch', 'stream', 'stream_log', 'stream_events']) expect(run.allows('echo', e)).toBe(true);
    for (const e of ['input_schema', 'output_schema', 'config_schema', 'playground']) expect(run.allows('echo', e)).toBe(false);
    const schema = parseScopes(['*:schema'], WHERE);
    for (const e of ['input_schema', 'output_schema', 'config_schema']) expect(schema.allows('x/y', e)).toBe(true);
    expect(schema.allows('echo', 'invoke')).toBe(false);
  });

  it('several scopes: any one allowing is enough', () => {
    const s = parseScopes(['chat:run', 'echo:*', 'agents/*:schema'], WHERE);
    expect(s.allows('chat', 'stream')).toBe(true);
    expect(s.allows('echo', 'config_schema')).toBe(true);
    expect(s.allows('agents/a', 'input_schema')).toBe(true);
    expect(s.allows('agents/a', 'invoke')).toBe(false);
    expect(s.list).toEqual(['chat:run', 'echo:*', 'agents/*:schema']);
  });

  it('a leading slash on the runnable is accepted (as the 403 message writes paths)', () => {
    const s = parseScopes(['/agents/support:invoke', '/tools/*:run'], WHERE);
    expect(s.allows('agents/support', 'invoke')).toBe(true);
    expect(s.allows('tools/x', 'batch')).toBe(true);
    expect(s.list).toEqual(['agents/support:invoke', 'tools/*:run']);
  });

  it('an empty list allows nothing; Scopes.all allows everything', () => {
    const none = parseScopes([], WHERE);
    expect(none.isEmpty).toBe(true);
    expect(none.allows('echo', 'invoke')).toBe(false);
    expect(Scopes.all.allows('agents/support', 'stream_events')).toBe(true);
    expect(String(Scopes.all)).toBe('*:*');
  });

  it.each([
    ['echo', 'has no ":"'],
    ['echo:invok', '"invok" is not one of'],
    ['echo:config_hashes', '"config_hashes" is not one of'],
    ['echo:', '"" is not one of'],
    [':invoke', 'names no runnable'],
    ['/:invoke', 'names no runnable'],
    ['*/*:invoke', 'runnable path that is not one'],
    ['agents//support:invoke', 'runnable path that is not one'],
    ['agents/*/x:invoke', 'runnable path that is not one'],
    ['ag*:invoke', 'runnable path that is not one'],
    ['agents/:invoke', 'runnable path that is not one'],
    ['ech o:invoke', 'runnable path that is not one'],
  ])('refuses %j, naming the entry and where it came from', (scope, reason) => {
    expect(() => parseScopes(['echo:invoke', scope], WHERE)).toThrow(ScopeError);
    expect(() => parseScopes(['echo:invoke', scope], WHERE)).toThrow(`${WHERE}: scope ${JSON.stringify(scope)}`);
    expect(() => parseScopes([scope], WHERE)).toThrow(reason);
  });

  it('refuses a non-string entry', () => {
    expect(() => parseScopes(['echo:invoke', 42], WHERE)).toThrow(`${WHERE}: scope 2 is not a string`);
  });
});

describe('parseTokenScopes', () => {
  it("skips other services' scopes instead of refusing the token", () => {
    const { scopes, ignored } = parseTokenScopes(['openid', 'email', 'read:users', 'echo:invoke', '', 'agents/*:run']);
    expect(ignored).toEqual(['openid', 'email', 'read:users']);
    expect(scopes.list).toEqual(['echo:invoke', 'agents/*:run']);
    expect(scopes.allows('echo', 'invoke')).toBe(true);
    expect(scopes.allows('agents/a', 'stream')).toBe(true);
  });

  it('none of ours: no scopes, nothing allowed', () => {
    const { scopes } = parseTokenScopes(['openid', 'profile']);
    expect(scopes.isEmpty).toBe(true);
    expect(scopes.allows('echo', 'invoke')).toBe(false);
  });
});
