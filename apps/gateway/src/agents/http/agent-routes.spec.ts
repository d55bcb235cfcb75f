import { matchAgentRoute } from './agent-routes';

describe('matchAgentRoute', () => {
  it('matches literal routes before parameters, and decodes parameters', () => {
    expect(matchAgentRoute('POST', '/threads/search')).toEqual({ kind: 'route', name: 'threads.search', params: {} });
    expect(matchAgentRoute('GET', '/threads/abc')).toEqual({ kind: 'route', name: 'threads.get', params: { thread_id: 'abc' } });
    expect(matchAgentRoute('GET', '/threads/t1/runs/r%201/stream')).toEqual({ kind: 'route', name: 'runs.joinStream', params: { thread_id: 't1', run_id: 'r 1' } });
    expect(matchAgentRoute('POST', '/runs/crons/search')).toEqual({ kind: 'route', name: 'crons.search', params: {} });
    expect(matchAgentRoute('POST', '/runs/crons/count')).toEqual({ kind: 'route', name: 'crons.count', params: {} });
    expect(matchAgentRoute('PATCH', '/runs/crons/c1')).toEqual({ kind: 'route', name: 'crons.update', params: { cron_id: 'c1' } });
    expect(matchAgentRoute('DELETE', '/runs/crons/c1')).toEqual({ kind: 'route', name: 'crons.delete', params: { cron_id: 'c1' } });
    expect(matchAgentRoute('POST', '/threads/t1/runs/crons')).toEqual({ kind: 'route', name: 'crons.createForThread', params: { thread_id: 't1' } });
    expect(matchAgentRoute('GET', '/runs/r1/stream')).toEqual({ kind: 'route', name: 'runs.joinStreamStateless', params: { run_id: 'r1' } });
    expect(matchAgentRoute('GET', '/ok/')).toEqual({ kind: 'route', name: 'ok', params: {} });
  });

  it('answers a known path with the wrong method as such, with the methods allowed', () => {
    expect(matchAgentRoute('PUT', '/threads/t1')).toEqual({ kind: 'method', allow: ['DELETE', 'GET', 'PATCH'] });
    expect(matchAgentRoute('GET', '/store/items/search')).toEqual({ kind: 'method', allow: ['POST'] });
    expect(matchAgentRoute('GET', '/runs/crons/c1')).toEqual({ kind: 'method', allow: ['DELETE', 'PATCH'] });
  });

  it('leaves paths outside the API (runnables) alone', () => {
    expect(matchAgentRoute('POST', '/echo/invoke')).toEqual({ kind: 'none' });
    expect(matchAgentRoute('GET', '/threads/t1/nope')).toEqual({ kind: 'none' });
    expect(matchAgentRoute('GET', '/threads//state')).toEqual({ kind: 'none' });
    expect(matchAgentRoute('GET', '/threads/%E0%A4%A/state')).toEqual({ kind: 'none' });
  });
});
