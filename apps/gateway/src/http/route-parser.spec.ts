import { RunnableLambda } from '@langchain/core/runnables';
import { RouteSetupError } from '../registry/resolved-route';
import { RunnableRegistry } from '../registry/runnable-registry';
import { isBasePath, normalizeBasePath, parseRoute } from './route-parser';

const lambda = RunnableLambda.from((x: unknown) => x);

function registry(): RunnableRegistry {
  return new RunnableRegistry()
    .addRoutes(lambda, { path: 'echo' })
    .addRoutes(lambda, { path: 'agents' })
    .addRoutes(lambda, { path: '/agents/support' })
    .addRoutes(lambda, { path: 'agents/support/tier-2' })
    .addRoutes(lambda, { path: 'no-hash', disabledEndpoints: ['config_hashes', 'batch'] });
}

describe('parseRoute', () => {
  const table = registry();

  it('answers the probes at the root, whatever the base path', () => {
    expect(parseRoute('/health', table, '/api')).toEqual({ kind: 'probe', probe: 'health' });
    expect(parseRoute('/ready', table)).toEqual({ kind: 'probe', probe: 'ready' });
    expect(parseRoute('/api/health', table, '/api')).toMatchObject({ kind: 'miss', status: 404 });
  });

  it('serves the index, openapi.json and docs under the base path only', () => {
    expect(parseRoute('/', table)).toEqual({ kind: 'service', page: 'index' });
    expect(parseRoute('/api', table, '/api')).toEqual({ kind: 'service', page: 'index' });
    expect(parseRoute('/api/', table, '/api')).toEqual({ kind: 'service', page: 'index' });
    expect(parseRoute('/api/openapi.json', table, '/api')).toEqual({ kind: 'service', page: 'openapi' });
    expect(parseRoute('/api/docs', table, '/api')).toEqual({ kind: 'service', page: 'docs' });
    expect(parseRoute('/openapi.json', table, '/api')).toMatchObject({ kind: 'miss', status: 404, detail: 'Nothing is served outside /api/' });
    expect(parseRoute('/apix/echo/invoke', table, '/api')).toMatchObject({ kind: 'miss', status: 404 });
  });

  it('finds one-segment and multi-segment runnables, the longest registered prefix first', () => {
    expect(parseRoute('/echo/invoke', table)).toMatchObject({ kind: 'runnable', route: { path: 'echo' }, endpoint: 'invoke', addressedPath: '/echo' });
    expect(parseRoute('/agents/invoke', table)).toMatchObject({ route: { path: 'agents' }, endpoint: 'invoke' });
    expect(parseRoute('/agents/support/stream', table)).toMatchObject({ route: { path: 'agents/support' }, endpoint: 'stream', addressedPath: '/agents/support' });
    expect(parseRoute('/api/agents/support/tier-2/batch', table, '/api')).toMatchObject({
      route: { path: 'agents/support/tier-2' },
      endpoint: 'batch',
      addressedPath: '/api/agents/support/tier-2',
    });
  });

  it('reads the config hash part and bounds its length', () => {
    expect(parseRoute('/agents/support/c/N4Xy/invoke', table)).toMatchObject({
      route: { path: 'agents/support' },
      endpoint: 'invoke',
      configHash: 'N4Xy',
      addressedPath: '/agents/support/c/N4Xy',
    });
    expect(parseRoute(`/echo/c/${'a'.repeat(5000)}/invoke`, table)).toMatchObject({ kind: 'miss', status: 414 });
    expect(parseRoute('/no-hash/c/abc/invoke', table)).toMatchObject({ kind: 'miss', status: 404, detail: 'Config hash routes are disabled for this runnable' });
  });

  it('lets the playground have sub-paths, and nothing else', () => {
    expect(parseRoute('/echo/playground/assets/index.js', table)).toMatchObject({ endpoint: 'playground' });
    expect(parseRoute('/echo/invoke/extra', table)).toMatchObject({ kind: 'miss', detail: 'Unknown endpoint "invoke/extra" for runnable "echo"' });
  });

  it('names what is missing', () => {
    expect(parseRoute('/nope/invoke', table)).toMatchObject({ kind: 'miss', status: 404, detail: expect.stringContaining('No runnable at "nope/invoke"; serving: echo, agents') });
    expect(parseRoute('/echo', table)).toMatchObject({ kind: 'miss', detail: 'Unknown endpoint "" for runnable "echo"' });
    expect(parseRoute('/echo/config_hashes', table)).toMatchObject({ kind: 'miss' });
    expect(parseRoute('/no-hash/batch', table)).toMatchObject({ kind: 'miss', detail: 'Endpoint "batch" is disabled for runnable "no-hash"' });
  });

  it('decodes percent-encoded segments and survives malformed ones', () => {
    expect(parseRoute('/ech%6F/invoke', table)).toMatchObject({ route: { path: 'echo' } });
    expect(parseRoute('/%E0%A4%A/invoke', table)).toMatchObject({ kind: 'miss', status: 404 });
  });
});

describe('route paths at registration', () => {
  it('refuses paths that would be ambiguous in the URL space', () => {
    const r = new RunnableRegistry();
    expect(() => r.addRoutes(lambda, { path: 'agents/c' })).toThrow(RouteSetupError);
    expect(() => r.addRoutes(lambda, { path: 'agents/invoke/x' })).toThrow(/segment "invoke" is reserved/);
    expect(() => r.addRoutes(lambda, { path: 'health' })).toThrow(/served by the gateway itself/);
    expect(() => r.addRoutes(lambda, { path: 'docs/x' })).toThrow(/served by the gateway itself/);
    expect(() => r.addRoutes(lambda, { path: 'a//b' })).toThrow(/segments of letters/);
    expect(() => r.addRoutes(lambda, { path: '' })).toThrow(/segments of letters/);
    r.addRoutes(lambda, { path: '/a/b/' });
    expect(r.paths).toEqual(['a/b']);
    expect(() => r.addRoutes(lambda, { path: 'a/b' })).toThrow(/already registered/);
  });
});

describe('normalizeBasePath', () => {
  it('accepts the usual spellings and refuses what no path could match', () => {
    expect(normalizeBasePath('')).toBe('');
    expect(normalizeBasePath('/')).toBe('');
    expect(normalizeBasePath('api')).toBe('/api');
    expect(normalizeBasePath('/api/v1/')).toBe('/api/v1');
    expect(isBasePath('/api v1')).toBe(false);
    expect(isBasePath('/api//v1')).toBe(false);
    expect(isBasePath('/api?x=1')).toBe(false);
  });
});
