export { MongoStandIn, type MongoStandInOptions, type RecordedCommand, type ChangeStreamAggregate } from './mongo-stand-in';
export { Faults, type Fault, type FaultError, type FaultSpec } from './faults';
export { decodeToken, encodeToken, tokenTimestamp, type ResumeToken, type TokenData } from './resume-token';
export { DEV_USAGE, parseDevArgs, runDevServer, startDevServer } from './dev-server';
