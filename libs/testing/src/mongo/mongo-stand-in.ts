import { createServer, type Server, type Socket } from 'node:net';
import { type Document, ObjectId } from 'bson';
import { Catalog } from './catalog';
import { ClusterClock } from './cluster-clock';
import { execute } from './commands';
import { CursorRegistry } from './cursors';
import { Faults } from './faults';
import { MAX_MESSAGE_SIZE_BYTES } from './handshake-commands';
import { Oplog } from './oplog';
import { RetryableWrites } from './retryable-writes';
import type { CommandRequest, ServerState } from './server-state';
import { Storage } from './storage';
import { encodeReply, MessageFramer, parseRequest } from './wire';

/**
 * A stateful MongoDB stand-in for tests and local runs: a one-member replica set primary (`rs0`)
 * speaking the wire protocol the official `mongodb` driver uses, unmodified. Documents are stored
 * with their exact BSON types; every write goes to an oplog that change streams read, with the
 * server's resume tokens, post-batch resume tokens, invalidate events, pre/post images,
 * `updateLookup` at read time, `$changeStreamSplitLargeEvent`, and a window whose overflow is
 * 286 ChangeStreamHistoryLost. It never runs in a service image (a test and dev tool only).
 *
 *   const m = await MongoStandIn.start({ oplogSize: 10_000 });
 *   const client = new MongoClient(m.uri);     // mongodb://127.0.0.1:<port>/?replicaSet=rs0
 *   …
 *   await m.stop();
 *
 * Faults and steering, in-process or from another process over the wire (send to `admin`):
 *
 *   in-process                                      over the wire (db.admin().command(...))
 *   m.faults.inject({command: 'getMore',            {runnelFault: {command: 'getMore',
 *     error: {code: 10107}, times: 1, skip: 0,         error: {code: 10107}, times: 1, skip: 0,
 *     changeStream: true})                             changeStream: true}}          → {id}
 *   m.faults.inject({command: 'getMore',            {runnelFault: {command: 'getMore', closeConnection: true}}
 *     closeConnection: true})
 *   m.faults.inject({command: '*', delayMs: 500})   {runnelFault: {command: '*', delayMs: 500}}
 *   m.faults.clear()                                {runnelClearFaults: 1}
 *   m.truncateOplog(keep)                           {runnelTruncateOplog: keep}   → {dropped, first, last}
 *   m.forgetCursors()                               {runnelForgetCursors: 1}      → {forgotten}
 *   m.status()                                      {runnelStatus: 1}             → {oplog, cursors, faults}
 *   (the server's own test command, as drivers' spec tests use it)
 *                                                   {configureFailPoint: 'failCommand', mode: {times: 1},
 *                                                    data: {failCommands: ['getMore'], errorCode: 43}}
 *
 * `command` is a command name as the driver sends it ('getMore', 'aggregate', 'insert', 'find'…),
 * a list, or '*' (every command but the handshake and these steering commands); `times` is a count
 * or 'always'. An error is labelled as the server labels it unless `errorLabels` is given:
 * ResumableChangeStreamError on a change stream's getMore for resumable codes (10107
 * NotWritablePrimary, 91, 189, 11602…), RetryableWriteError on retryable writes; 43 on a getMore
 * really forgets the cursor; `error: {code: 286}` is a one-shot ChangeStreamHistoryLost. See
 * faults.ts. `m.commands` records what the driver sent (the newest `recordCommands`), and
 * `m.onCommand` sees each command as it arrives.
 *
 * Differences from a real server, on purpose or not yet done: no authentication, TLS or
 * compression; no secondary index data beyond the specs (a hint of one sorts by its key; other
 * queries scan), while the `_id` index is real: a sorted structure in BSON order that `_id` sorts,
 * `hint: {_id: 1}`/`'_id_'`, `min`/`max` bounds and `_id` ranges read lazily across getMores (see
 * query-engine.ts, id-index.ts);
 * multi-document transactions are not isolated (their writes are visible at once; their events
 * are written at commit under one cluster time, with lsid/txnNumber; abort undoes the writes);
 * the aggregation language is a small subset; the idle no-op that moves cluster time is virtual
 * (no oplog entry; the time moves once a second when observed); pre-images are kept with the
 * oplog entry (no expiry, not removed by a drop).
 */
export interface MongoStandInOptions {
  /** TCP port (default 0: any free port). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Host name the replica set config advertises (and the URI uses); default `host`, or 127.0.0.1 for a wildcard bind. */
  advertiseHost?: string;
  /** Oplog window in entries (default 1,000,000). */
  oplogSize?: number;
  /** Replica set name (default 'rs0'). */
  replSetName?: string;
  /** How many received commands `commands` keeps, newest last (default 10,000; 0: none). */
  recordCommands?: number;
}

export interface RecordedCommand {
  name: string;
  db: string;
  body: Document;
  connectionId: number;
  at: Date;
}

export interface ChangeStreamAggregate {
  db: string;
  /** The collection, or 1 for database and deployment streams. */
  aggregate: unknown;
  /** `$changeStream`'s options as sent (resumeAfter, startAfter, fullDocument…). */
  options: Document;
  /** The stages after `$changeStream`. */
  pipeline: Document[];
}

export class MongoStandIn {
  readonly faults = new Faults();
  /** Commands received, oldest first (bounded by `recordCommands`). */
  readonly commands: RecordedCommand[] = [];
  /** Called as each command arrives, before it is answered. */
  onCommand?: (cmd: RecordedCommand) => void;
  readonly #server: Server;
  readonly #sockets = new Map<number, Socket>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  readonly #record: number;
  #state!: ServerState;
  #stopping = false;
  #connections = 0;
  #port = 0;
  #advertise = '127.0.0.1';

  private constructor(readonly options: MongoStandInOptions) {
    this.#record = options.recordCommands ?? 10_000;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  static async start(options: MongoStandInOptions = {}): Promise<MongoStandIn> {
    const m = new MongoStandIn(options);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      m.#server.once('error', reject);
      m.#server.listen(options.port ?? 0, host, () => {
        m.#server.off('error', reject);
        resolve();
      });
    });
    m.#port = (m.#server.address() as { port: number }).port;
    m.#advertise = options.advertiseHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
    const clock = new ClusterClock();
    const oplog = new Oplog(clock, Math.max(1, options.oplogSize ?? 1_000_000));
    const catalog = new Catalog();
    m.#state = {
      instance: Math.floor(Math.random() * 0xffffffff) >>> 0,
      clock,
      oplog,
      catalog,
      storage: new Storage(catalog, oplog),
      cursors: new CursorRegistry(),
      faults: m.faults,
      retryableWrites: new RetryableWrites(),
      replSetName: options.replSetName ?? 'rs0',
      address: `${m.#advertise}:${m.#port}`,
      electionId: new ObjectId('7fffffff0000000000000001'),
      startedAt: new Date(),
      sleep: (ms) => m.#sleep(ms),
      get stopping() {
        return m.#stopping;
      },
    };
    return m;
  }

  get port(): number {
    return this.#port;
  }

  /** host:port as the replica set advertises it. */
  get address(): string {
    return `${this.#advertise}:${this.#port}`;
  }

  /** `mongodb://<host>:<port>/?replicaSet=rs0`: the driver discovers the set and talks to its primary. */
  get uri(): string {
    return `mongodb://${this.address}/?replicaSet=${this.#state.replSetName}`;
  }

  /** `mongodb://<host>:<port>/?directConnection=true`. */
  get directUri(): string {
    return `mongodb://${this.address}/?directConnection=true`;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Keeps only the newest `keep` oplog entries: resuming from before them is 286 ChangeStreamHistoryLost. Returns how many were dropped. */
  truncateOplog(keep: number): number {
    return this.#state.oplog.truncate(keep);
  }

  /** Every open cursor is forgotten, as after a failover (the next getMore answers 43 CursorNotFound). Returns how many. */
  forgetCursors(): number {
    const n = this.#state.cursors.forgetAll();
    this.#state.oplog.wake();
    return n;
  }

  /** Drops every client connection at once (a network blip). Returns how many. */
  dropConnections(): number {
    const n = this.#sockets.size;
    for (const s of this.#sockets.values()) s.destroy();
    return n;
  }

  status(): { oplog: { first: number; last: number; maxEntries: number }; cursors: number; connections: number; faults: number } {
    const o = this.#state.oplog;
    return { oplog: { first: o.first, last: o.last, maxEntries: o.maxEntries }, cursors: this.#state.cursors.size, connections: this.#sockets.size, faults: this.faults.list().length };
  }

  /** The `$changeStream` aggregates received, oldest first (what the driver asked for, and how it resumed). */
  changeStreamAggregates(): ChangeStreamAggregate[] {
    return this.commands
      .filter((c) => c.name === 'aggregate' && Array.isArray(c.body['pipeline']) && (c.body['pipeline'] as Document[])[0]?.['$changeStream'] !== undefined)
      .map((c) => {
        const pipeline = c.body['pipeline'] as Document[];
        return { db: c.db, aggregate: c.body['aggregate'], options: pipeline[0]['$changeStream'] as Document, pipeline: pipeline.slice(1) };
      });
  }

  /** How many commands of this name were received (within what is recorded). */
  count(name: string): number {
    return this.commands.filter((c) => c.name === name).length;
  }

  /** Closes the listener and every connection, ends waiting getMores and pending stalls. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.#timers.clear();
    this.#state.oplog.wake();
    this.#state.cursors.forgetAll();
    const closed = [new Promise<void>((resolve) => this.#server.close(() => resolve()))];
    for (const s of this.#sockets.values()) {
      closed.push(new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
      s.destroy();
    }
    await Promise.all(closed);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#timers.add(entry);
    });
  }

  #accept(socket: Socket): void {
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    const connectionId = ++this.#connections;
    this.#sockets.set(connectionId, socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(connectionId));
    socket.on('error', () => undefined);
    const framer = new MessageFramer(MAX_MESSAGE_SIZE_BYTES);
    let chain = Promise.resolve();
    socket.on('data', (data) => {
      let messages: Buffer[];
      try {
        messages = framer.push(data);
      } catch {
        socket.destroy(); // a message over 48 MB or a corrupt header: the server hangs up
        return;
      }
      for (const m of messages) chain = chain.then(() => this.#handle(socket, m, connectionId)).catch(() => void socket.destroy());
    });
  }

  async #handle(socket: Socket, message: Buffer, connectionId: number): Promise<void> {
    if (socket.destroyed) return;
    const request = parseRequest(message);
    const req: CommandRequest = { name: Object.keys(request.body)[0] ?? '', db: request.db, body: request.body, connectionId };
    this.#recordCommand(req);
    const outcome = await execute(this.#state, req);
    if ('drop' in outcome) {
      socket.destroy();
      return;
    }
    if (request.moreToCome || socket.destroyed) return;
    const ok = socket.write(encodeReply(nextRequestId(), request.requestId, request.opCode, outcome.reply));
    if (!ok && !socket.destroyed) await new Promise<void>((resolve) => (socket.once('drain', resolve), socket.once('close', resolve)));
  }

  #recordCommand(req: CommandRequest): void {
    const cmd: RecordedCommand = { name: req.name, db: req.db, body: req.body, connectionId: req.connectionId, at: new Date() };
    if (this.#record > 0) {
      this.commands.push(cmd);
      if (this.commands.length > this.#record * 2) this.commands.splice(0, this.commands.length - this.#record);
    }
    this.onCommand?.(cmd);
  }
}

let requestIds = 0;
function nextRequestId(): number {
  requestIds = (requestIds + 1) & 0x7fffffff;
  return requestIds;
}
