import { parseMetrics, sumsByName } from './prometheus-text';
import { percentile, table } from './report-format';

describe('parseMetrics / sumsByName', () => {
  const text = [
    '# HELP runnel_events_processed_total Events.',
    '# TYPE runnel_events_processed_total counter',
    'runnel_events_processed_total{service="batch-writer",collection="a"} 3',
    'runnel_events_processed_total{service="batch-writer",collection="b"} 4',
    'h_bucket{le="0.1"} 9',
    'h_sum 1.5',
    'label_with_quote{v="a \\"b\\""} 1',
    'process_resident_memory_bytes 1048576',
  ].join('\n');

  it('reads names, labels and values; sums series by name without histogram buckets', () => {
    const samples = parseMetrics(text);
    expect(samples[0]).toEqual({ name: 'runnel_events_processed_total', labels: { service: 'batch-writer', collection: 'a' }, value: 3 });
    expect(samples.find((s) => s.name === 'label_with_quote')?.labels.v).toBe('a \\"b\\"');
    expect(sumsByName(samples)).toEqual({ runnel_events_processed_total: 7, h_sum: 1.5, label_with_quote: 1, process_resident_memory_bytes: 1048576 });
  });
});

describe('report formatting', () => {
  it('pads a table: first column left, the rest right', () => {
    expect(table([['name', 'n'], ['a', 10], ['bbb', 2]])).toBe('name   n\na     10\nbbb    2');
  });
  it('takes percentiles by nearest rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([], 50)).toBeNaN();
  });
});
