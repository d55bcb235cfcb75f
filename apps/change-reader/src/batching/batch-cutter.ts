import { type BatchRecord, CheckpointStore, type ResumeToken } from '@runnel/checkpoint';
import { type ChangeEnvelope, hourPartition } from '@runnel/lake/records';
import { clusterSeconds } from '../change-envelope-mapper';

export interface CutterOptions {
  /** BATCH_SIZE: events per batch at most. */
  batchSize: number;
  /** Size cap per batch: the sum of its events' `bytes`. */
  maxBytes: number;
  /** BATCH_TIMEOUT_MS, in cluster time: a batch is cut once the stream has moved this far past its first event. */
  timeoutMs: number;
}

/** An event as the cutter sees it: its envelope, its JSONL line and the stream tokens on either side of it. */
export interface CutterEvent {
  envelope: ChangeEnvelope;
  /** The envelope as one JSONL line (newline included): what the batch hands on. */
  line: string;
  token: ResumeToken;
  tokenBefore: ResumeToken;
  clusterTimeBefore?: string;
  /**
   * What the event counts towards BATCH_MAX_BYTES: its size without the parts a replay may see
   * differently (an update's looked-up document), so that the byte cut falls at the same event on
   * every replay — see cutSize.
   */
  bytes: number;
}

export interface Batch {
  id: string;
  generation: number;
  database: string;
  collection: string | null;
  /** `db.coll`, or `db` for database-level events: what events are grouped by. */
  namespace: string;
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
  /** Cluster time (ms) at which the batch is due: its first event's second + BATCH_TIMEOUT_MS. */
  dueAt: number;
  /** For a replayed batch, the recorded last seq: it is cut there and nowhere else. */
  replayEnd?: number;
}

/** Namespace of an envelope: what a batch holds one of. */
export function namespaceOf(e: Pick<ChangeEnvelope, 'database' | 'collection'>): string {
  return e.collection === null || e.collection === undefined ? e.database : `${e.database}.${e.collection}`;
}

/**
 * An event's weight towards BATCH_MAX_BYTES: its line, less an update's full document. With
 * updateLookup that document is read when the event is read, so a replay can see another version
 * of another size; everything else in an event comes from the oplog and is the same on every read.
 */
export function cutSize(envelope: ChangeEnvelope, line: string): number {
  return envelope.operation === 'update' && envelope.full_document ? line.length - envelope.full_document.length : line.length;
}

/**
 * Cuts a stream's events into per-namespace batches: on BATCH_SIZE, on the byte cap, at an hour
 * boundary of cluster time (a batch never spans two hive partitions), and once the stream's cluster
 * time has moved BATCH_TIMEOUT_MS past a batch's first event (seen on a later event of any
 * namespace, or on an idle position: `due`).
 *
 * Every rule reads only the events and the stream's cluster time, never the wall clock, so reading
 * the same events again cuts them at the same places: a batch whose cut record Redis lost (a crash
 * before fsync, a failover to a lagging replica) is rebuilt as the same object, not an overlapping
 * one. An idle position at cluster time t means every later event is after t, so cutting there and
 * cutting before the next event give the same batch.
 *
 * After a restart it is also given the checkpoint's records: events of batches already stored are
 * skipped, and batches cut before the crash are rebuilt exactly as recorded (same events, same id).
 */
export class BatchCutter {
  readonly #open = new Map<string, OpenBatch>();
  readonly #replay = new Map<string, BatchRecord[]>();

  constructor(
    private readonly opts: CutterOptions,
    private readonly generation: number,
    replay: BatchRecord[] = [],
  ) {
    for (const r of replay) {
      if (r.state === 'open' || r.seqEnd === undefined) continue;
      const ns = namespaceOf(r);
      const list = this.#replay.get(ns) ?? [];
      list.push(r);
      this.#replay.set(ns, list);
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

  push(ev: CutterEvent): CutterAction[] {
    const { envelope } = ev;
    const seconds = clusterSeconds(envelope.cluster_time);
    const actions = this.due(seconds);
    const ns = namespaceOf(envelope);
    const record = this.#recordFor(ns, envelope.seq);
    if (record?.state === 'done') return actions;
    if (record) return [...actions, ...this.#pushReplay(record, ev)];

    const partition = this.#partitionOf(seconds);
    let batch = this.#open.get(ns);
    if (batch && (batch.partition !== partition || (batch.lines.length > 0 && batch.bytes + ev.bytes > this.opts.maxBytes))) {
      actions.push(this.#cut(batch));
      batch = undefined;
    }
    if (!batch) {
      batch = this.#newBatch(ns, ev, partition);
      actions.push({ type: 'open', batch: snapshot(batch) });
    }
    this.#add(batch, ev);
    if (batch.lines.length >= this.opts.batchSize || batch.bytes >= this.opts.maxBytes) actions.push(this.#cut(batch));
    return actions;
  }

  /**
   * Cuts every batch that is due once the stream has reached cluster second `seconds` (an event's
   * time, or an idle position's). Replayed batches wait for their recorded end.
   */
  due(seconds: number): CutterAction[] {
    const now = seconds * 1000;
    const actions: CutterAction[] = [];
    for (const batch of this.#open.values()) {
      if (batch.replayEnd === undefined && now >= batch.dueAt) actions.push(this.#cut(batch));
    }
    return actions;
  }

  /**
   * Cuts `namespace`'s open batch, if any: where the source says a run of its events ends (a
   * collection's last snapshot row: every row carries the snapshot's one cluster time, so no
   * timeout would ever cut it before the stream moves on, and it would hold the checkpoint back
   * while later collections fill the buffer). The source says so at the same event on every
   * replay, so the cut is as deterministic as the others. A replayed batch keeps its recorded end.
   */
  cutNamespace(namespace: string): CutterAction[] {
    const batch = this.#open.get(namespace);
    return batch && batch.replayEnd === undefined ? [this.#cut(batch)] : [];
  }

  /** Cuts everything still open (an invalidate ends the stream). */
  flush(): CutterAction[] {
    return [...this.#open.values()].filter((b) => b.replayEnd === undefined).map((b) => this.#cut(b));
  }

  #pushReplay(record: BatchRecord, ev: CutterEvent): CutterAction[] {
    const ns = namespaceOf(record);
    const actions: CutterAction[] = [];
    let batch = this.#open.get(ns);
    if (!batch || batch.id !== record.id) {
      // A batch still open here holds events before the recorded one (its own record was lost or
      // never cut): it ends where the recorded batch begins — never dropped, never overlapping it.
      if (batch) actions.push(this.#cut(batch));
      const partition = hourPartition(clusterSeconds(ev.envelope.cluster_time));
      batch = this.#newBatch(ns, ev, partition, record);
    }
    this.#add(batch, ev);
    if (ev.envelope.seq === record.seqEnd) actions.push(this.#cut(batch));
    return actions;
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

  #recordFor(namespace: string, seq: number): BatchRecord | undefined {
    const list = this.#replay.get(namespace);
    if (!list) return undefined;
    while (list.length > 0 && list[0].seqEnd! < seq) list.shift();
    if (list.length === 0) this.#replay.delete(namespace);
    return list[0] && list[0].seqStart <= seq ? list[0] : undefined;
  }

  #newBatch(namespace: string, ev: CutterEvent, partition: string, record?: BatchRecord): OpenBatch {
    const seqStart = record?.seqStart ?? ev.envelope.seq;
    const batch: OpenBatch = {
      id: record?.id ?? CheckpointStore.batchId(this.generation, namespace, seqStart),
      generation: this.generation,
      database: ev.envelope.database,
      collection: ev.envelope.collection,
      namespace,
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
      dueAt: clusterSeconds(ev.envelope.cluster_time) * 1000 + this.opts.timeoutMs,
      replayEnd: record?.seqEnd,
    };
    this.#open.set(namespace, batch);
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
    this.#open.delete(batch.namespace);
    return { type: 'cut', batch: snapshot(batch) };
  }
}

function snapshot(b: OpenBatch): Batch {
  const { dueAt: _d, replayEnd: _r, ...batch } = b;
  return { ...batch, lines: [...batch.lines], operations: { ...batch.operations } };
}
