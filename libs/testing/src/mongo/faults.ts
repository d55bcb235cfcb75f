import type { Document } from 'bson';
import { bool, num } from './bson-values';
import { CODE_NAMES, RESUMABLE_CHANGE_STREAM_CODES, RETRYABLE_WRITE_CODES, ServerError } from './server-error';

/**
 * Injected failures, in-process (`m.faults.inject({...})`) or over the wire (the `runnelFault`
 * admin command, or the server's own `configureFailPoint: 'failCommand'` test command), so a test
 * can steer a stand-in running in another process.
 *
 * A fault matches commands by name (`'getMore'`, `'aggregate'`, `'insert'`…, a list, or `'*'` for
 * every command except the handshake and the stand-in's own commands), optionally only those of
 * change streams (`changeStream: true`: `$changeStream` aggregates and getMores on their cursors).
 * It lets `skip` matching commands pass, then fires `times` times (default 1, `'always'` for ever):
 * - `error`: the command fails with that code (codeName and errmsg filled in as the server words
 *   them). Labels are added as a server adds them unless given: `ResumableChangeStreamError` on a
 *   change stream's getMore/aggregate for resumable codes (10107 NotWritablePrimary, 91, 189…),
 *   `RetryableWriteError` on a retryable write (one with a txnNumber) for retryable codes. A 43
 *   CursorNotFound on getMore really forgets the cursor.
 * - `closeConnection`: the connection is dropped instead of answering (the command is not run).
 * - `delayMs`: the reply (or the error, or the drop) comes that much later: a stall.
 * - `afterExecution`: the command runs first and the fault replaces its reply (a write whose
 *   acknowledgement is lost; a retryable write retried by the driver is then answered from the
 *   first execution, not run twice).
 */
export interface FaultError {
  code: number;
  codeName?: string;
  errmsg?: string;
  errorLabels?: string[];
}

export interface FaultSpec {
  command: string | string[];
  /** Only change stream aggregates and getMores on change stream cursors (true), or only others (false). */
  changeStream?: boolean;
  error?: FaultError;
  closeConnection?: boolean;
  delayMs?: number;
  /** How many times it fires (default 1). */
  times?: number | 'always';
  /** Matching commands to let through first (default 0). */
  skip?: number;
  /** Run the command, then fail or drop instead of answering. */
  afterExecution?: boolean;
  /** Set by `configureFailPoint` (a new one replaces it). */
  failPoint?: boolean;
}

export interface Fault {
  readonly id: number;
  readonly spec: FaultSpec;
  /** Times it has fired. */
  fired: number;
  /** Matching commands still to let through. */
  skipLeft: number;
  /** Firings left (Infinity for 'always'). */
  left: number;
}

/** What the command in hand is, for matching. */
export interface FaultTarget {
  name: string;
  changeStream: boolean;
  /** A retryable write: the command has a txnNumber (and no transaction). */
  retryableWrite: boolean;
}

/** Commands faults never touch unless named: the handshake, and the stand-in's own steering commands. */
const EXEMPT = new Set(['hello', 'isMaster', 'ismaster', 'runnelFault', 'runnelClearFaults', 'runnelTruncateOplog', 'runnelForgetCursors', 'runnelStatus', 'configureFailPoint', 'endSessions']);

export class Faults {
  readonly #faults: Fault[] = [];
  #nextId = 1;

  inject(spec: FaultSpec): Fault {
    if (!spec.error && !spec.closeConnection && !spec.delayMs) throw new TypeError('a fault needs error, closeConnection or delayMs');
    const fault: Fault = { id: this.#nextId++, spec, fired: 0, skipLeft: spec.skip ?? 0, left: spec.times === 'always' ? Number.POSITIVE_INFINITY : (spec.times ?? 1) };
    this.#faults.push(fault);
    return fault;
  }

  remove(id: number): void {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i >= 0) this.#faults.splice(i, 1);
  }

  clear(): void {
    this.#faults.length = 0;
  }

  list(): readonly Fault[] {
    return this.#faults;
  }

  /** The fault that fires for this command now (consuming a skip or a firing), if any. */
  take(t: FaultTarget): Fault | undefined {
    for (const f of this.#faults) {
      if (!matches(f.spec, t)) continue;
      if (f.skipLeft > 0) {
        f.skipLeft--;
        continue;
      }
      f.fired++;
      f.left--;
      if (f.left <= 0) this.remove(f.id);
      return f;
    }
    return undefined;
  }
}

function matches(spec: FaultSpec, t: FaultTarget): boolean {
  const names = Array.isArray(spec.command) ? spec.command : [spec.command];
  const named = names.includes(t.name);
  if (!named && !(names.includes('*') && !EXEMPT.has(t.name))) return false;
  if (spec.changeStream !== undefined && spec.changeStream !== t.changeStream) return false;
  return true;
}

const DEFAULT_MESSAGES: Record<number, string> = {
  10107: 'not primary',
  91: 'The server is in quiesce mode and will shut down',
  189: 'PrimarySteppedDown',
  11602: 'operation was interrupted because the node stepped down',
  286: 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
  280: 'cannot resume stream; the resume token was not found.',
  10334: 'BSONObj size is invalid. Size must be between 0 and 16793600(16MB)',
};

/** The error a fault answers with, labelled as the server would label it for this command. */
export function faultError(e: FaultError, t: FaultTarget, cursorId?: string): ServerError {
  const code = e.code;
  let labels = e.errorLabels;
  if (!labels) {
    labels = [];
    if (t.changeStream && RESUMABLE_CHANGE_STREAM_CODES.has(code)) labels.push('ResumableChangeStreamError');
    if (t.retryableWrite && RETRYABLE_WRITE_CODES.has(code)) labels.push('RetryableWriteError');
  }
  const errmsg = e.errmsg ?? (code === 43 ? `cursor id ${cursorId ?? 0} not found` : (DEFAULT_MESSAGES[code] ?? `injected fault: ${CODE_NAMES[code] ?? code}`));
  return new ServerError(code, errmsg, labels, e.codeName);
}

/** A fault spec from a wire command's BSON (`runnelFault: {...}`). */
export function faultSpecFromWire(d: Document): FaultSpec {
  const command = d['command'];
  if (typeof command !== 'string' && !(Array.isArray(command) && command.every((c) => typeof c === 'string'))) throw new ServerError(2, 'runnelFault.command must be a command name or a list of them');
  const e = d['error'] as Document | number | undefined;
  const error: FaultError | undefined =
    e === undefined || e === null
      ? undefined
      : typeof e === 'object' && !('_bsontype' in e)
        ? {
            code: num(e['code']) ?? 1,
            codeName: e['codeName'] as string | undefined,
            errmsg: e['errmsg'] as string | undefined,
            errorLabels: e['errorLabels'] as string[] | undefined,
          }
        : { code: num(e) ?? 1 };
  const times = d['times'] === 'always' ? 'always' : num(d['times']);
  return {
    command,
    changeStream: d['changeStream'] === undefined ? undefined : bool(d['changeStream']),
    error,
    closeConnection: bool(d['closeConnection']),
    delayMs: num(d['delayMs']),
    afterExecution: bool(d['afterExecution']),
    times,
    skip: num(d['skip']),
  };
}

/**
 * The server's `configureFailPoint: 'failCommand'` (what the drivers' own tests use against a
 * mongod started with enableTestCommands): `mode` 'alwaysOn' | 'off' | {times} | {skip}, `data`
 * {failCommands, errorCode, errorLabels, closeConnection, blockConnection, blockTimeMS}.
 */
export function failCommandSpec(body: Document): FaultSpec | 'off' {
  if (body['configureFailPoint'] !== 'failCommand') throw new ServerError(2, `the stand-in knows only the failCommand fail point, not ${String(body['configureFailPoint'])}`);
  const mode = body['mode'];
  if (mode === 'off') return 'off';
  const data = (body['data'] ?? {}) as Document;
  const commands = data['failCommands'];
  if (!Array.isArray(commands) || commands.length === 0) throw new ServerError(2, 'failCommand needs data.failCommands');
  const m = typeof mode === 'object' && mode !== null ? (mode as Document) : {};
  const code = num(data['errorCode']);
  return {
    command: commands as string[],
    error: code !== undefined ? { code, errorLabels: data['errorLabels'] as string[] | undefined, errmsg: data['errmsg'] as string | undefined } : undefined,
    closeConnection: bool(data['closeConnection']),
    delayMs: bool(data['blockConnection']) ? num(data['blockTimeMS']) : undefined,
    times: mode === 'alwaysOn' ? 'always' : (num(m['times']) ?? 'always'),
    skip: num(m['skip']),
  };
}
