import type { S3Client } from '@aws-sdk/client-s3';
import { readyOf, type ServiceProcess } from '@runnel/testing';

/**
 * The reader's settings for a chaos run on the MongoDB stand-in: the real driver on `database`,
 * updateLookup, oversize events split, a lost history fatal; info logs (lease, resume, generation
 * and snapshot lines: a failed run's message shows each replica's story). SNAPSHOT_* on top.
 */
export function standInReaderEnv(uri: string, database: string): Record<string, string> {
  return { SOURCE: 'mongodb', MONGODB_URI: uri, MONGODB_DATABASE: database, FULL_DOCUMENT: 'updateLookup', OVERSIZE_EVENTS: 'split', ON_HISTORY_LOST: 'fail', LOG_LEVEL: 'info' };
}

/** What a reader replica's /ready says, reduced to what the chaos run steers by. */
export interface ReaderStatus {
  /** HTTP status of /ready: 200 ready, 503 not ready (e.g. history lost). */
  status: number;
  state: string | undefined;
  holder: string | undefined;
  /** 0 when not reported. */
  readSeq: number;
  /** 0 when not reported (no generation yet). */
  checkpointSeq: number;
  /**
   * Whether the stream's checkpoint holds a resume position yet. A new stream's generation exists (and
   * /ready shows checkpoint_seq 0) before the reader has opened its change stream: writes before
   * the position is recorded are not part of the stream.
   */
  hasPosition: boolean;
  /** The snapshot's progress (SNAPSHOT_MODE initial), null outside one. */
  snapshot: Record<string, unknown> | null;
}

/** The reader's /ready on `port`, as ReaderStatus; undefined when it does not answer. */
export async function readerStatus(port: number, timeoutMs = 2000): Promise<ReaderStatus | undefined> {
  const r = await readyOf(port, timeoutMs);
  const d = r?.reader;
  return r && { status: r.status, state: d?.state, holder: d?.holder, readSeq: d?.read_seq ?? 0, checkpointSeq: d?.checkpoint_seq ?? 0, hasPosition: d?.has_position ?? false, snapshot: d?.snapshot ?? null };
}

/** A change-reader replica of the run. */
export interface ReaderReplica {
  /** `change-reader`, `change-reader-2`, … (the key of its kill count). */
  readonly name: string;
  readonly holder: string;
  readonly port: number;
  readonly process: ServiceProcess;
  /** /ready, or undefined when it does not answer within `timeoutMs` (dead, starting, SIGSTOPped). */
  status(timeoutMs?: number): Promise<ReaderStatus | undefined>;
}

/** What the run lends a source's scenarios: the readers, the log, the run's random numbers. */
export interface ChaosHarness {
  log(line: string): void;
  random(): number;
  readonly readers: readonly ReaderReplica[];
  /** Kills (SIGKILL, or another signal) and waits for the exit; counted as a kill only with SIGKILL. */
  stopReader(r: ReaderReplica, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the replica again (same name, holder and port); returns the new handle. */
  startReader(r: ReaderReplica): ReaderReplica;
  /** The replica currently reading (holding the lease), when one says so. */
  activeReader(): Promise<ReaderReplica | undefined>;
}

/** One fault a source injects during the chaos window, while no random kill runs. */
export interface ChaosScenario {
  name: string;
  /** When, as a fraction of the chaos window (0..1). */
  at: number;
  /**
   * Optional: from `at` on, the scenario runs only once this says true (e.g. "the snapshot is near
   * its handoff"); the random kills go on meanwhile. After the window the run waits for it.
   */
  due?(h: ChaosHarness): Promise<boolean>;
  /** Resolves with a one-line outcome; throws when the pipeline misbehaved. */
  run(h: ChaosHarness): Promise<string>;
}

/**
 * Where the change events of a chaos run come from. The run (runPipelineChaos) owns Redis, S3, the
 * services and the kill loop; the source owns what the reader reads, the faults only it can inject,
 * and the checks only it can make after the lake has settled.
 */
export interface ChaosSource {
  readonly name: string;
  /** change-reader replicas to run (a second one stands by on the lease). */
  readonly replicas: number;
  /** Starts whatever the reader reads from (before the services). */
  start(): Promise<void>;
  /** The reader's source variables (after start). */
  readerEnv(): Record<string, string>;
  /** After the services started: e.g. wait for the reader's first position, then start writing. */
  begin(h: ChaosHarness): Promise<void>;
  readonly scenarios: ChaosScenario[];
  /** After the chaos window: how many events the stream must end with (waits for the writer). */
  expectedEvents(): Promise<number>;
  /** After the lake has settled: the source's own checks, as a record for the report. */
  check(s3: S3Client, bucket: string, prefix: string): Promise<SourceCheck>;
  /** When the pipeline does not settle: lines saying what the lake lacks, for the failure message. */
  diagnose?(s3: S3Client, bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

export interface SourceCheck {
  /** Whether the source's own checks passed. */
  ok: boolean;
  /** Lines for the report. */
  lines: string[];
  details?: Record<string, unknown>;
}
