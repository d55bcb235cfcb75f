import type { Document } from 'bson';

/** The server's names for the error codes the stand-in answers with (as `codeName` on the wire). */
export const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'InternalError',
  2: 'BadValue',
  6: 'HostUnreachable',
  7: 'HostNotFound',
  9: 'FailedToParse',
  11: 'UserNotFound',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  28: 'PathNotViable',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  47: 'NoMatchingDocument',
  48: 'NamespaceExists',
  50: 'MaxTimeMSExpired',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  112: 'WriteConflict',
  115: 'CommandNotSupported',
  133: 'FailedToSatisfyReadPreference',
  136: 'CappedPositionLost',
  189: 'PrimarySteppedDown',
  234: 'RetryChangeStream',
  237: 'CursorKilled',
  251: 'NoSuchTransaction',
  256: 'TransactionCommitted',
  260: 'InvalidResumeToken',
  262: 'ExceededTimeLimit',
  280: 'ChangeStreamFatalError',
  286: 'ChangeStreamHistoryLost',
  9001: 'SocketException',
  10107: 'NotWritablePrimary',
  10334: 'BSONObjectTooLarge',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
  17419: 'Location17419',
  40573: 'Location40573',
  40602: 'Location40602',
  40674: 'Location40674',
  7182802: 'Location7182802',
};

/**
 * Codes the server labels `ResumableChangeStreamError` when they end a change stream's getMore
 * (the server's list since 4.4; the driver resumes on that label, and on 43 by itself).
 */
export const RESUMABLE_CHANGE_STREAM_CODES: ReadonlySet<number> = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133]);

/** Codes the server labels `RetryableWriteError` on a retryable write (one with a txnNumber). */
export const RETRYABLE_WRITE_CODES: ReadonlySet<number> = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * A command failure the stand-in answers with `{ok: 0, code, codeName, errmsg, errorLabels}`.
 * Thrown by command handlers; the dispatcher turns it into the reply.
 */
export class ServerError extends Error {
  readonly codeName: string;

  constructor(
    readonly code: number,
    errmsg: string,
    readonly errorLabels: readonly string[] = [],
    codeName?: string,
  ) {
    super(errmsg);
    this.name = 'ServerError';
    this.codeName = codeName ?? CODE_NAMES[code] ?? `Location${code}`;
  }

  toReply(): Document {
    const reply: Document = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
    if (this.errorLabels.length > 0) reply['errorLabels'] = [...this.errorLabels];
    return reply;
  }
}
