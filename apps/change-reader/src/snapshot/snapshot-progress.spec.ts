import { Registry } from 'prom-client';
import { pipelineMetrics } from '@runnel/metrics';
import { SnapshotProgress } from './snapshot-progress';

describe('SnapshotProgress', () => {
  const setup = () => {
    const registry = new Registry();
    const metrics = pipelineMetrics(registry);
    let now = 1_000_000;
    const progress = new SnapshotProgress('shop', metrics, () => now);
    const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    return { progress, gauge, tick: (ms: number) => (now += ms) };
  };

  it('counts rows per collection with rate and time left, and says which collections are done', () => {
    const { progress, tick } = setup();
    progress.begin('a', '100.1', ['shop.a', 'shop.b'], {}, 0);
    progress.collection('shop.a', 1000, 0);
    for (let i = 0; i < 100; i++) progress.row('shop.a');
    tick(1000);
    expect(progress.status).toMatchObject({ phase: 'reading', position_cluster_time: '100.1', rows: 100, collections: { 'shop.a': { state: 'reading', rows: 100, rows_per_s: 100, eta_s: 9 }, 'shop.b': { state: 'pending' } } });
    progress.collectionDone('shop.a');
    progress.finish('streaming');
    tick(5000); // a finished collection's rate stays what it was
    expect(progress.status).toMatchObject({ phase: 'streaming', collections: { 'shop.a': { state: 'done', eta_s: 0, rows_per_s: 100 } } });
  });

  it('a retry of the same snapshot does not restart the stall clock; only a chunk does; a replica that stops reading drops out of active', async () => {
    const { progress, gauge, tick } = setup();
    progress.begin('a', '100.1', ['shop.a'], {}, 0);
    expect(await gauge('runnel_snapshot_last_progress_timestamp_seconds')).toBe(1000);
    tick(60_000);
    progress.begin('a', '100.1', ['shop.a'], {}, 0); // the read failed and is tried again
    expect(await gauge('runnel_snapshot_last_progress_timestamp_seconds')).toBe(1000);
    progress.emitted('shop.a');
    expect(await gauge('runnel_snapshot_last_progress_timestamp_seconds')).toBe(1060);
    expect(await gauge('runnel_snapshot_active')).toBe(1);
    progress.notReading();
    expect(await gauge('runnel_snapshot_active')).toBe(0);
  });
});
