import { describeChaos, runPipelineChaos } from './pipeline-chaos';
import { snapshotChaosSource } from './snapshot-chaos-source';
import type { SnapshotLakeChecks } from './snapshot-lake-checks';

/**
 * The issue 10 proof, short (the long one: npm run chaos:snapshot -- <documents> <seconds> <rate>):
 * seeded documents of mixed _id types snapshotted by a new stream while a writer changes them, the
 * holder killed -9 mid-snapshot and at the handoff, the run's random kills, a Redis restart and an S3
 * 503 window on top. Asserts outcomes, never timings.
 */
describe('snapshot chaos on the MongoDB stand-in (short)', () => {
  it('kill -9 mid-snapshot and at the handoff: one row per document, none for one deleted before its chunk, every event once, DuckDB state = server state', async () => {
    const lines: string[] = [];
    const documents = 20_000;
    const events = 2000;
    // A small read-ahead (CHANNEL_BUFFER_SIZE) keeps the snapshot at the lake's pace, so both kills find it under way.
    const source = snapshotChaosSource({ documents, events, rate: 100, seed: 5, chunkSize: 500, bufferSize: 1000 });
    const result = await runPipelineChaos({ events, durationMs: 20_000, rate: 100, seed: 5, source, log: (l) => lines.push(l) });
    const summary = [...lines, ...describeChaos(result)];
    // Whatever failed, with the run's story, in full (a long string would be cut in the diff).
    const failed = result.sourceCheck.lines.filter((l) => !l.startsWith('ok: ') && !/^(seeded|writer|rows): /.test(l));
    expect({ failed, story: failed.length ? summary : [] }).toEqual({ failed: [], story: [] });
    expect(Object.keys(result.scenarios)).toEqual(['kill-mid-snapshot', 'kill-at-handoff']);
    const d = result.sourceCheck.details as {
      writer: { events: number; deletes: number; inserts: number; writesOfReadDocuments: number; writesOfUnreadDocuments: number };
      deletedBeforeRead: number;
      expectedRows: number;
      handoffRows: number;
      generations: number[];
      rows: SnapshotLakeChecks;
      events: { source: number };
    };
    const checks = ['onePerDocument', 'exactRowSet', 'noRowForDeleted', 'rowsBeforeEvents', 'untouched'] as const;
    expect(checks.filter((c) => !d.rows[c].ok)).toEqual([]);
    expect(result.sourceCheck.ok).toBe(true);
    // The run did what the proof needs: deletes ahead of the snapshot, writes behind and ahead of it.
    expect(d.deletedBeforeRead).toBeGreaterThan(0);
    expect(d.writer.writesOfReadDocuments).toBeGreaterThan(0);
    expect(d.writer.writesOfUnreadDocuments).toBeGreaterThan(0);
    expect(d.writer.inserts).toBeGreaterThan(0);
    expect(d.writer.deletes).toBeGreaterThan(d.deletedBeforeRead);
    expect(d.generations).toHaveLength(1);
    expect(Object.values(d.rows.rowsPerGeneration)).toEqual([d.expectedRows]);
    expect(d.handoffRows).toBe(d.expectedRows);
    expect(d.events.source).toBe(d.writer.events);
    expect(result.reports).toHaveLength(1);
    expect(result.report).toMatchObject({ stream: 'shop', events: d.expectedRows + d.writer.events, missing: 0, duplicates: 0, badObjects: [] });
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
  }, 240_000);
});
