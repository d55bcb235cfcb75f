import { type BatchRecord, CheckpointStore, type ResumeToken } from '@runnel/checkpoint';
import { type ChangeEnvelope, hourPartition } from '@runnel/lake/records';
import { clusterSeconds } from '../change-envelope-mapper';

export interface CutterOptions {
  /** BATCH_SIZE: events per batch at most. */
  batchSize: number;
  /** Size cap per batch: the sum of its events' JSONL line lengths (characters). */
  maxBytes: number;
  /** BATCH_TIMEOUT_MS: a quiet collection's batch is cut this long after it opened. */
  timeoutMs: number;
}

/** An event as the cutter sees it: its envelope, its JSONL line and the stream tokens on either side of it. */
export interface CutterEvent {
  envelope: ChangeEnvelope;
  /** The envelope as one JSONL line (newline included): what the batch hands on, and what `bytes` measures. */
  line: string;
  token: ResumeToken;
  tokenBefore: ResumeToken;
  clusterTimeBefore?: string;
  bytes: number;
}

export interface Batch {
  id: string;
  collection: string;
  seqStart: number;
  seqEnd: number;
  /** Hour partition, `YYYY-MM-DDTHH`. */
  partition: string;
  /** The events as JSONL lines, in seq order. */
  lines: string[];
  /** Events per operation type: the writer counts them without parsing the lines. */
  operations: Record<string, number>;
  tokenBefore: ResumeToken;
  clusterTimeBefore?: string;
  /** Token and cluster time of the last event. */
  token: ResumeToken;
  clusterTime: string;
  bytes: number;
  /** True when this batch was cut before a crash and is being rebuilt from the replay, unchanged. */
  replayed: boolean;
}

export type CutterAction = { type: 'open'; batch: Batch } | { type: 'cut'; batch: Batch };

interface OpenBatch extends Batch {
  openedAt: number;
  /** For a replayed batch, the recorded last seq: it is cut there and nowhere else. */
  replayEnd?: number;
}

/**
 * Cuts a stream's events into per-collection batches: on BATCH_SIZE, on the byte cap, at an hour
 * boundary of cluster time (a batch never spans two hive partitions) and on BATCH_TIMEOUT_MS.
 *
 * After a restart it is given the checkpoint's records: events of batches already stored are
 * skipped, and batches cut before the crash are rebuilt exactly (same events, same id, cut at the
 * recorded end, never by timeout), so replays produce the same objects, not new ones.
 */
export class BatchCutter {
  readonly #open = new Map<string, OpenBatch>();
  readonly #replay = new Map<string, BatchRecord[]>();

  constructor(
    private readonly opts: CutterOptions,
    replay: BatchRecord[] = [],
  ) {
    for (const r of replay) {
      if (r.state === 'open' || r.seqEnd === undefined) continue;
      const list = this.#replay.get(r.collection) ?? [];
      list.push(r);
      this.#replay.set(r.collection, list);
    }
  }

  /** Batches open right now (events held in memory, not yet handed on). */
  get openBatches(): number {
    return this.#open.size;
  }

  get bufferedEvents(): number {
    let n = 0;
    for (const b of this.#open.values()) n += b.lines.length;
    return n;
  }

  push(ev: CutterEvent, now: number): CutterAction[] {
    const { envelope } = ev;
    const coll = envelope.collection;
    const record = this.#recordFor(coll, envelope.seq);
    if (record?.state === 'done') return [];
    if (record) return this.#pushReplay(record, ev, now);

    const actions: CutterAction[] = [];
    const partition = this.#partitionOf(clusterSeconds(envelope.cluster_time));
    let batch = this.#open.get(coll);
    if (batch && (batch.partition !== partition || (batch.lines.length > 0 && batch.bytes + ev.bytes > this.opts.maxBytes))) {
      actions.push(this.#cut(batch));
      batch = undefined;
    }
    if (!batch) {
      batch = this.#newBatch(coll, ev, partition, now);
      actions.push({ type: 'open', batch: snapshot(batch) });
    }
    this.#add(batch, ev);
    if (batch.lines.length >= this.opts.batchSize || batch.bytes >= this.opts.maxBytes) actions.push(this.#cut(batch));
    return actions;
  }

  /** Cuts every batch that has been open for BATCH_TIMEOUT_MS. Replayed batches wait for their recorded end. */
  due(now: number): CutterAction[] {
    const actions: CutterAction[] = [];
    for (const batch of this.#open.values()) {
      if (batch.replayEnd === undefined && now - batch.openedAt >= this.opts.timeoutMs) actions.push(this.#cut(batch));
    }
    return actions;
  }

  #pushReplay(record: BatchRecord, ev: CutterEvent, now: number): CutterAction[] {
    let batch = this.#open.get(record.collection);
    if (!batch || batch.id !== record.id) {
      const partition = hourPartition(clusterSeconds(ev.envelope.cluster_time));
      batch = this.#newBatch(record.collection, ev, partition, now, record);
    }
    this.#add(batch, ev);
    return ev.envelope.seq === record.seqEnd ? [this.#cut(batch)] : [];
  }

  // Events arrive in cluster-time order, so the hour rarely changes: format it once per hour, not per event.
  #hour = -1;
  #hourText = '';
  #partitionOf(seconds: number): string {
    const hour = Math.floor(seconds / 3600);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#hourText = hourPartition(seconds);
    }
    return this.#hourText;
  }

  #recordFor(collection: string, seq: number): BatchRecord | undefined {
    const list = this.#replay.get(collection);
    if (!list) return undefined;
    while (list.length > 0 && list[0].seqEnd! < seq) list.shift();
    if (list.length === 0) this.#replay.delete(collection);
    return list[0] && list[0].seqStart <= seq ? list[0] : undefined;
  }

  #newBatch(collection: string, ev: CutterEvent, partition: string, now: number, record?: BatchRecord): OpenBatch {
    const seqStart = record?.seqStart ?? ev.envelope.seq;
    const batch: OpenBatch = {
      id: CheckpointStore.batchId(collection, seqStart),
      collection,
      seqStart,
      seqEnd: seqStart,
      partition,
      lines: [],
      operations: {},
      tokenBefore: record?.tokenBefore ?? ev.tokenBefore,
      clusterTimeBefore: record?.clusterTimeBefore ?? ev.clusterTimeBefore,
      token: ev.token,
      clusterTime: ev.envelope.cluster_time,
      bytes: 0,
      replayed: record !== undefined,
      openedAt: now,
      replayEnd: record?.seqEnd,
    };
    this.#open.set(collection, batch);
    return batch;
  }

  #add(batch: OpenBatch, ev: CutterEvent): void {
    batch.lines.push(ev.line);
    batch.operations[ev.envelope.operation] = (batch.operations[ev.envelope.operation] ?? 0) + 1;
    batch.bytes += ev.bytes;
    batch.seqEnd = ev.envelope.seq;
    batch.token = ev.token;
    batch.clusterTime = ev.envelope.cluster_time;
  }

  #cut(batch: OpenBatch): CutterAction {
    this.#open.delete(batch.collection);
    return { type: 'cut', batch: snapshot(batch) };
  }
}

function snapshot(b: OpenBatch): Batch {
  const { openedAt: _o, replayEnd: _r, ...batch } = b;
  return { ...batch, lines: [...batch.lines], operations: { ...batch.operations } };
}
