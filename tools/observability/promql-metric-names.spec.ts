import { expandGrafanaVariables, promqlMetricNames, promqlReferences } from './promql-metric-names';

describe('promqlReferences', () => {
  test('metric names from plain, matcher, range, subquery, offset and binary expressions', () => {
    const refs = promqlReferences(
      'histogram_quantile(0.95, sum by (le, runnable) (rate(a_bucket{service="gateway"}[$__rate_interval]))) / on (runnable) group_left (x) max_over_time(b[10m:1m] offset 5m) + {__name__="c_total"} + {"d.dotted"} or vector(0)',
    );
    expect(refs).toEqual({
      metricNames: ['a_bucket', 'b', 'c_total', 'd.dotted'],
      matcherLabels: ['service'],
      groupingLabels: ['le', 'runnable', 'x'],
      unresolvedNameMatchers: [],
      errors: [],
    });
  });

  test('function names, label_replace arguments and string values are not metric names', () => {
    expect(promqlMetricNames('label_replace(rate(up[5m]), "dst", "$1", "src", "(.*)") > bool 0')).toEqual(['up']);
    expect(promqlMetricNames('sum without (instance) (count_values("v", up))')).toEqual(['up']);
  });

  test('a pattern on __name__ cannot be checked and is reported as such', () => {
    expect(promqlReferences('{__name__=~"runnel_.*"}').unresolvedNameMatchers).toEqual(['__name__=~"runnel_.*"']);
  });

  test('syntax errors are reported (and promqlMetricNames throws)', () => {
    expect(promqlReferences('sum(rate(x[5m])').errors.length).toBeGreaterThan(0);
    expect(promqlReferences('').errors).toEqual(['empty expression']);
    expect(() => promqlMetricNames('rate(x[5m]) by')).toThrow(/does not parse/);
  });

  test("Grafana's interval variables become durations; other variables stay (fine inside strings)", () => {
    expect(expandGrafanaVariables('rate(x[$__rate_interval]) + rate(y[${__interval}]) + z offset $__range')).toBe('rate(x[5m]) + rate(y[5m]) + z offset 5m');
    expect(expandGrafanaVariables('x / $__range_s + $__interval_ms')).toBe('x / 300 + 300000');
    expect(promqlReferences('x{service=~"$service"}').errors).toEqual([]);
    expect(promqlReferences('rate(x[$window])').errors.length).toBeGreaterThan(0);
  });
});
