import { Binary, type Document, Long } from 'bson';
import { CATALOG_COMMANDS } from './catalog-commands';
import type { Fault, FaultTarget } from './faults';
import { faultError } from './faults';
import { HANDSHAKE_COMMANDS } from './handshake-commands';
import { READ_COMMANDS } from './read-commands';
import { ServerError } from './server-error';
import { type CommandHandler, type CommandRequest, type CommandResult, RawReply, type ServerState } from './server-state';
import { STEERING_COMMANDS } from './steering-commands';
import { Transactions } from './transactions';
import { WRITE_COMMANDS } from './write-commands';
import { toBson } from './raw-bson';

/**
 * Command dispatch: finds the handler, applies an injected fault first (a stall, a dropped
 * connection, an error labelled as the server would), answers a retried retryable write from its
 * first reply, turns thrown ServerErrors into `{ok: 0, …}`, and stamps every reply with the
 * replica set's `$clusterTime` and `operationTime`.
 */
const TRANSACTION_COMMANDS: Record<string, CommandHandler> = {
  commitTransaction: (state, req) => {
    const key = Transactions.key(req.body);
    if (key === undefined || !state.storage.transactions.commit(key)) throw new ServerError(251, `Transaction with { txnNumber: ${String(req.body['txnNumber'])} } has been aborted.`, ['TransientTransactionError']);
    return { ok: 1 };
  },
  abortTransaction: (state, req) => {
    const key = Transactions.key(req.body);
    if (key === undefined || !state.storage.transactions.abort(key)) throw new ServerError(251, `Transaction with { txnNumber: ${String(req.body['txnNumber'])} } has been aborted.`);
    return { ok: 1 };
  },
};

const HANDLERS: Record<string, CommandHandler> = {
  ...HANDSHAKE_COMMANDS,
  ...WRITE_COMMANDS,
  ...READ_COMMANDS,
  ...CATALOG_COMMANDS,
  ...STEERING_COMMANDS,
  ...TRANSACTION_COMMANDS,
};

const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);

/** What happened to a command: a reply to send, or the connection to drop. */
export type Outcome = { reply: Buffer } | { drop: true };

export function faultTarget(state: ServerState, req: CommandRequest): FaultTarget {
  const b = req.body;
  let changeStream = false;
  if (req.name === 'aggregate') changeStream = Array.isArray(b['pipeline']) && (b['pipeline'] as Document[])[0]?.['$changeStream'] !== undefined;
  else if (req.name === 'getMore') {
    const id = b['getMore'];
    const c = state.cursors.get(id instanceof Long ? id.toBigInt() : BigInt(Number(id) || 0));
    changeStream = c?.kind === 'changeStream';
  }
  return { name: req.name, changeStream, retryableWrite: WRITES.has(req.name) && b['txnNumber'] !== undefined && b['autocommit'] === undefined };
}

export async function execute(state: ServerState, req: CommandRequest): Promise<Outcome> {
  const target = faultTarget(state, req);
  const fault: Fault | undefined = state.faults.take(target);
  if (fault?.spec.delayMs) await state.sleep(fault.spec.delayMs);
  const before = fault && !fault.spec.afterExecution ? fault : undefined;
  const after = fault?.spec.afterExecution ? fault : undefined;
  if (state.stopping || before?.spec.closeConnection) return { drop: true };
  if (before?.spec.error) return { reply: stamp(state, injectedError(state, req, target, before)) };
  const reply = await run(state, req);
  if (state.stopping || after?.spec.closeConnection) return { drop: true };
  if (after?.spec.error) return { reply: stamp(state, injectedError(state, req, target, after)) };
  return { reply };
}

function injectedError(state: ServerState, req: CommandRequest, target: FaultTarget, fault: Fault): Document {
  const idField = req.body['getMore'];
  const id = idField instanceof Long ? idField.toString() : String(idField ?? 0);
  // CursorNotFound means the server really lost the cursor.
  if (fault.spec.error!.code === 43 && req.name === 'getMore') state.cursors.remove(idField instanceof Long ? idField.toBigInt() : BigInt(Number(idField) || 0));
  return faultError(fault.spec.error!, target, id).toReply();
}

async function run(state: ServerState, req: CommandRequest): Promise<Buffer> {
  const retryKey = WRITES.has(req.name) ? state.retryableWrites.key(req.body) : undefined;
  const previous = retryKey ? state.retryableWrites.get(retryKey) : undefined;
  if (previous) return stamp(state, previous);
  let result: CommandResult;
  try {
    const handler = Object.prototype.hasOwnProperty.call(HANDLERS, req.name) ? HANDLERS[req.name] : undefined;
    if (!handler) throw new ServerError(59, `no such command: '${req.name}'`);
    result = await handler(state, req);
  } catch (e) {
    if (!(e instanceof ServerError)) {
      // A stand-in bug must not look like a network error to the driver: answer it as a server would.
      result = new ServerError(1, `stand-in internal error in ${req.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`).toReply();
    } else {
      result = e.toReply();
    }
  }
  if (retryKey && !(result instanceof RawReply) && result['ok'] === 1) state.retryableWrites.set(retryKey, result);
  return stamp(state, result);
}

/** Adds the gossiped cluster time and the operation time, as a replica set member does. */
function stamp(state: ServerState, result: CommandResult): Buffer {
  const ts = state.clock.now();
  const gossip = { $clusterTime: { clusterTime: ts, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.ZERO } }, operationTime: ts };
  if (result instanceof RawReply) return result.build({ ok: 1, ...gossip });
  return toBson({ ...result, ...gossip });
}
