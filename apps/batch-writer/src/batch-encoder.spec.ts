import { COMPRESSIONS, type ChangeEnvelope, decodeObject, FORMATS, jsonlLine } from '@runnel/lake';
import { assertBatchJob, type BatchJobV1, type BatchJobV2, type BatchJobV3, UnprocessableJobError } from '@runnel/queue';
import { encodeBatch, operationCounts } from './batch-encoder';

const event = (seq: number, operation = 'insert'): ChangeEnvelope => ({
  operation, database: 'db', collection: 'c', document_key: `{"_id":{"$oid":"65f0a0a0a0a0a0a0a0a0a0${String(seq).padStart(2, '0')}"}}`,
  full_document: `{"_id":1,"text":"quote \\" and comma , and newline \\n","n":{"$numberLong":"${seq}"}}`, full_document_before_change: null,
  update_description: operation === 'update' ? '{"updatedFields":{"n":1}}' : null, operation_description: null, to_namespace: null, cluster_time: `1795000000.${seq}`,
  event_time: '2026-11-18T11:06:40.000Z', cluster_time_increment: seq, wall_time: '2026-11-18T11:06:40.000Z', txn_number: null, lsid: null, stream: 'db', generation: 1, seq,
});
const events = [event(3), event(5, 'update'), event(6, 'delete')];
const meta = { stream: 'db', batchId: 'c@3', collection: 'c', seqStart: 3, seqEnd: 6, partition: '2026-11-18T11', resumeToken: { _data: 'x' } };
const v1: BatchJobV1 = { v: 1, ...meta, events };
const v2: BatchJobV2 = { v: 2, ...meta, bodyKey: 'k', count: 3, operations: { insert: 1, update: 1, delete: 1 } };
const jsonl = events.map(jsonlLine).join('');
const body = (text = jsonl) => Buffer.from(text, 'utf8');

describe('encodeBatch', () => {
  it.each(FORMATS.flatMap((format) => COMPRESSIONS.map((compression) => [format, compression] as const)))(
    'a version 2 (JSONL text) batch gives the same object as version 1 for %s + %s',
    (format, compression) => {
      const settings = { format, compression, keyStrategy: 'hive' as const, prefix: 'lake' };
      const a = encodeBatch(assertBatchJob(v1), settings);
      const b = encodeBatch(assertBatchJob(v2), settings, body());
      expect(b.body.equals(a.body)).toBe(true);
      expect(b.job).toEqual({ ...a.job, batchBodyKey: 'k' });
      expect(decodeObject(b.body, b.job.key.slice(b.job.key.indexOf('.') + 1))).toEqual(events);
    },
  );

  it('a version 3 batch names its object after its generation, under coll= (not a data column)', () => {
    const v3: BatchJobV3 = { ...v2, v: 3, generation: 1_795_000_000, database: 'db', batchId: '1795000000:db.c@3' };
    const settings = { format: 'jsonl' as const, compression: 'zstd' as const, keyStrategy: 'hive' as const, prefix: 'lake' };
    const b = encodeBatch(assertBatchJob(v3), settings, body());
    expect(b.job.key).toMatch(/^lake\/coll=c\/year=2026\/month=11\/day=18\/hour=11\/db\+1795000000\+0+3\+0+6\.jsonl\.zst$/);
    expect(b.job.generation).toBe(1_795_000_000);
    expect(b.body.equals(encodeBatch(assertBatchJob(v2), settings, body()).body)).toBe(true);
    expect(() => assertBatchJob({ ...v3, generation: undefined })).toThrow(/lacks generation/);
  });

  it('counts operations the same way for both versions', () => {
    expect(operationCounts(v2)).toEqual(operationCounts(v1));
  });

  it.each([
    ['a line count that disagrees', { count: 2 }, jsonl, /3 jsonl lines, count says 2/],
    ['a missing final newline', {}, jsonl.slice(0, -1), /does not end with a newline/],
    ['a first line that is not JSON', {}, `{oops\n${jsonl.split('\n').slice(1).join('\n')}`, /event 0 is not JSON/],
    ['lines that end before seqEnd', { seqEnd: 7 }, jsonl, /runs from seq 3 to 6, not 3 to 7/],
    ['an empty body', {}, '', /does not end with a newline/],
  ])('refuses a version 2 batch with %s', (_what, change, text, reason) => {
    const settings = { format: 'jsonl' as const, compression: 'zstd' as const, keyStrategy: 'hive' as const, prefix: '' };
    const run = () => encodeBatch(assertBatchJob({ ...v2, ...change }), settings, body(text));
    expect(run).toThrow(UnprocessableJobError);
    expect(run).toThrow(reason);
  });

  it('refuses a version 2 job without a body key', () => {
    expect(() => assertBatchJob({ ...v2, bodyKey: undefined })).toThrow(/lacks bodyKey/);
  });

  it('checks every event of a version 2 batch when the format parses the lines (a bad middle line)', () => {
    const lines = jsonl.split('\n');
    const bad = [lines[0], '{"seq":"x"}', lines[2], ''].join('\n');
    const settings = { format: 'parquet' as const, compression: 'zstd' as const, keyStrategy: 'hive' as const, prefix: '' };
    expect(() => encodeBatch(assertBatchJob(v2), settings, body(bad))).toThrow(/event 1 has seq x outside the batch order/);
  });
});
