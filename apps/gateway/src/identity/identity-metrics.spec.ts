import { CallerLabels, OTHER_CALLERS } from '../caller/caller-labels';
import { Registry } from '@runnel/metrics';
import { IdentityMetrics } from './identity-metrics';

async function values(registry: Registry, name: string) {
  return ((await registry.getSingleMetric(name)?.get())?.values ?? []).map((v) => ({ ...v.labels, value: v.value }));
}

describe('IdentityMetrics', () => {
  it('counts failures by reason and requests by caller and endpoint', async () => {
    const registry = new Registry();
    const m = new IdentityMetrics(registry);
    m.countFailure('missing');
    m.countFailure('forbidden');
    m.countFailure('forbidden');
    m.countCaller('support-bot', 'invoke');
    m.countCaller('support-bot', 'invoke');
    m.countCaller('ci', 'input_schema');
    expect(await values(registry, 'runnel_gateway_auth_failures_total')).toEqual([
      { reason: 'missing', value: 1 },
      { reason: 'forbidden', value: 2 },
    ]);
    expect(await values(registry, 'runnel_gateway_caller_requests_total')).toEqual([
      { caller: 'support-bot', endpoint: 'invoke', value: 2 },
      { caller: 'ci', endpoint: 'input_schema', value: 1 },
    ]);
  });

  it('past the cap, new caller names share one label; known names keep theirs', async () => {
    const registry = new Registry();
    const m = new IdentityMetrics(registry, new CallerLabels(2));
    for (const name of ['a', 'b', 'c', 'd', 'a']) m.countCaller(name, 'invoke');
    expect(await values(registry, 'runnel_gateway_caller_requests_total')).toEqual([
      { caller: 'a', endpoint: 'invoke', value: 2 },
      { caller: 'b', endpoint: 'invoke', value: 1 },
      { caller: OTHER_CALLERS, endpoint: 'invoke', value: 2 },
    ]);
  });
});
