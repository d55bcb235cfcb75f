import { type Document, Long } from 'bson';
import type { CommandHandler, ServerState } from './server-state';
import { BSON_OBJ_MAX_USER_SIZE } from './split-event';

/**
 * What a driver asks on connect and while monitoring: `hello`/`isMaster` answered as the primary
 * of a one-member replica set (so both `?replicaSet=rs0` and `?directConnection=true` work),
 * `buildInfo`, `ping`, `endSessions`, and a few diagnostics.
 *
 * Wire version 21 is MongoDB 7.0: the driver uses OP_MSG, sessions and retryable writes, and the
 * server side offers `$changeStreamSplitLargeEvent` (7.0+) and pre/post images (6.0+). The reply
 * has no `topologyVersion`, so the driver polls `hello` instead of the streaming (exhaust)
 * protocol.
 */
export const MAX_WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.14';
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;

export function helloReply(state: ServerState, connectionId: number): Document {
  const latest = state.oplog.latest;
  const ts = latest.ts;
  const opTime = { ts, t: Long.fromNumber(1) };
  return {
    hosts: [state.address],
    setName: state.replSetName,
    setVersion: 1,
    isWritablePrimary: true,
    ismaster: true,
    secondary: false,
    primary: state.address,
    me: state.address,
    electionId: state.electionId,
    lastWrite: { opTime, lastWriteDate: latest.wallTime, majorityOpTime: opTime, majorityWriteDate: latest.wallTime },
    maxBsonObjectSize: BSON_OBJ_MAX_USER_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    helloOk: true,
    ok: 1,
  };
}

const hello: CommandHandler = (state, req) => {
  const reply = helloReply(state, req.connectionId);
  // hello answers isWritablePrimary; the legacy isMaster answers ismaster, as servers since 5.0 do.
  if (req.name === 'hello') delete reply['ismaster'];
  else delete reply['isWritablePrimary'];
  return reply;
};

export const HANDSHAKE_COMMANDS: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  endSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  buildInfo: () => buildInfo(),
  buildinfo: () => buildInfo(),
  getParameter: (_s, req) => (req.body['featureCompatibilityVersion'] !== undefined ? { featureCompatibilityVersion: { version: '7.0' }, ok: 1 } : { ok: 1 }),
  whatsmyuri: (_s, req) => ({ you: `127.0.0.1:${req.connectionId}`, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  serverStatus: (state) => ({
    host: state.address,
    version: SERVER_VERSION,
    process: 'mongod',
    uptime: (Date.now() - state.startedAt.getTime()) / 1000,
    localTime: new Date(),
    repl: { setName: state.replSetName, isWritablePrimary: true, primary: state.address, me: state.address },
    ok: 1,
  }),
  replSetGetStatus: (state) => ({
    set: state.replSetName,
    date: new Date(),
    myState: 1,
    members: [{ _id: 0, name: state.address, health: 1, state: 1, stateStr: 'PRIMARY', optime: { ts: state.oplog.latest.ts, t: Long.fromNumber(1) }, self: true }],
    ok: 1,
  }),
  hostInfo: () => ({ system: { hostname: 'mongo-stand-in', numCores: 1 }, os: { type: 'Linux' }, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  logout: () => ({ ok: 1 }),
};

function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: 'mongo-stand-in',
    versionArray: [7, 0, 14, 0],
    bits: 64,
    maxBsonObjectSize: BSON_OBJ_MAX_USER_SIZE,
    storageEngines: ['wiredTiger'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  };
}
