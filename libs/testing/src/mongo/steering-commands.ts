import { Int32 } from 'bson';
import { num } from './bson-values';
import { failCommandSpec, faultSpecFromWire } from './faults';
import { ServerError } from './server-error';
import type { CommandHandler } from './server-state';

/**
 * The stand-in's own admin commands, so a process can steer a stand-in running in another one
 * (the same operations as MongoStandIn's methods; documented in mongo-stand-in.ts):
 * `runnelFault`, `runnelClearFaults`, `runnelTruncateOplog`, `runnelForgetCursors`,
 * `runnelStatus`, and the server's `configureFailPoint: 'failCommand'`.
 */
export const STEERING_COMMANDS: Record<string, CommandHandler> = {
  runnelFault: (state, req) => {
    const spec = req.body['runnelFault'];
    if (spec === null || typeof spec !== 'object') throw new ServerError(2, 'runnelFault needs a document: {command, error?, closeConnection?, delayMs?, times?, skip?, changeStream?}');
    const fault = state.faults.inject(faultSpecFromWire(spec));
    return { id: new Int32(fault.id), ok: 1 };
  },
  runnelClearFaults: (state) => {
    const cleared = state.faults.list().length;
    state.faults.clear();
    return { cleared: new Int32(cleared), ok: 1 };
  },
  runnelTruncateOplog: (state, req) => {
    const keep = num(req.body['runnelTruncateOplog']);
    if (keep === undefined || keep < 0) throw new ServerError(2, 'runnelTruncateOplog needs the number of newest entries to keep');
    const dropped = state.oplog.truncate(keep);
    return { dropped: new Int32(dropped), first: new Int32(state.oplog.first), last: new Int32(state.oplog.last), ok: 1 };
  },
  runnelForgetCursors: (state) => {
    const forgotten = state.cursors.forgetAll();
    state.oplog.wake();
    return { forgotten: new Int32(forgotten), ok: 1 };
  },
  runnelStatus: (state) => ({
    oplog: { first: new Int32(state.oplog.first), last: new Int32(state.oplog.last), maxEntries: new Int32(state.oplog.maxEntries), latest: state.oplog.latest.ts },
    cursors: new Int32(state.cursors.size),
    faults: state.faults.list().map((f) => ({ id: new Int32(f.id), command: f.spec.command, fired: new Int32(f.fired), left: f.left === Number.POSITIVE_INFINITY ? 'always' : new Int32(f.left) })),
    ok: 1,
  }),
  configureFailPoint: (state, req) => {
    const spec = failCommandSpec(req.body);
    // One failCommand at a time, as on a server: setting it replaces the previous one.
    for (const f of state.faults.list().filter((x) => x.spec.failPoint)) state.faults.remove(f.id);
    if (spec !== 'off') state.faults.inject({ ...spec, failPoint: true });
    return { count: new Int32(0), ok: 1 };
  },
};
