import type { Document, ObjectId } from 'bson';
import type { Catalog } from './catalog';
import type { ClusterClock } from './cluster-clock';
import type { CursorRegistry } from './cursors';
import type { Faults } from './faults';
import type { Oplog } from './oplog';
import type { RetryableWrites } from './retryable-writes';
import type { Storage } from './storage';

/** Everything a command handler works on: one stand-in's data, oplog, cursors and faults. */
export interface ServerState {
  /** Stamped into resume tokens: tokens of another instance are not this oplog's. */
  readonly instance: number;
  readonly clock: ClusterClock;
  readonly oplog: Oplog;
  readonly catalog: Catalog;
  readonly storage: Storage;
  readonly cursors: CursorRegistry;
  readonly faults: Faults;
  readonly retryableWrites: RetryableWrites;
  readonly replSetName: string;
  /** host:port as the replica set config names this member. */
  readonly address: string;
  readonly electionId: ObjectId;
  readonly startedAt: Date;
  /** Resolves after `ms`, or at once when the stand-in stops. */
  sleep(ms: number): Promise<void>;
  readonly stopping: boolean;
}

/** A command as received (after the wire framing). */
export interface CommandRequest {
  name: string;
  db: string;
  body: Document;
  connectionId: number;
}

/**
 * A reply whose body is assembled from serialized parts (cursor batches): `build` gets the
 * top-level fields the dispatcher adds (`ok`, `$clusterTime`, `operationTime`).
 */
export class RawReply {
  constructor(readonly build: (top: Document) => Buffer) {}
}

export type CommandResult = Document | RawReply;

export type CommandHandler = (state: ServerState, req: CommandRequest) => CommandResult | Promise<CommandResult>;
