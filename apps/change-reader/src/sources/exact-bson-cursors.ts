import type { ChangeStream } from 'mongodb';

/**
 * How the change stream's documents are decoded: no value is promoted to a JS number, so a double
 * stays a bson Double (5.0 is not an int), an int32 an Int32, an int64 a Long (bigint needs
 * promotion, so `useBigInt64` must be off with it; bson refuses the pair).
 */
// bsonRegExp: a JS RegExp cannot hold the `x` flag and EJSON refuses one with `s`; BSONRegExp keeps the pattern and flags as stored.
export const EXACT_BSON = { promoteValues: false, promoteLongs: false, promoteBuffers: false, useBigInt64: false, bsonRegExp: true } as const;

/** The parts of the driver's (7.9) ChangeStream and its cursor this file relies on. Not public API. */
interface DriverCursor {
  deserializationOptions?: Record<string, unknown>;
}
interface DriverChangeStream {
  cursor?: DriverCursor;
  _createChangeStreamCursor?: (this: unknown, options: unknown) => DriverCursor;
}

/** The driver does not look the way this file expects: thrown before anything is read. */
export class DriverInternalsError extends Error {
  constructor(what: string) {
    super(`mongodb driver internals changed (${what}): change events cannot be decoded with their exact BSON types; pin the driver to the version this was written for (7.9) or update exact-bson-cursors.ts`);
    this.name = 'DriverInternalsError';
  }
}

const isOptions = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Makes `cs` hand out change events with their exact BSON types, on its current cursor and on
 * every cursor the driver opens when it resumes by itself; `onCursor` runs for each of them (the
 * source uses it to notice the driver's resumes).
 *
 * Why not the public option: `promoteValues: false` on the change stream (or the client) also
 * decodes the server's error replies that way, so `MongoServerError.code` becomes an Int32 object.
 * The driver compares codes with `===`: `code === 43` fails and it stops resuming after
 * CursorNotFound; its retry and server-monitoring rules (NotWritablePrimary, shutdown codes…) stop
 * matching too. `raw: true` returns bytes, which the change stream rejects (no `_id`). The driver
 * decodes a cursor's documents with the cursor's own `deserializationOptions` (AbstractCursor,
 * `documents.shift(this.deserializationOptions)`), a copy of its options made in its constructor,
 * while replies and errors are decoded with the command's options. Changing only the copy keeps
 * documents exact and errors as they were. The ChangeStream opens a new cursor through
 * `_createChangeStreamCursor` on every resume, so that is wrapped to change each new cursor
 * before it reads anything.
 *
 * Both names are driver internals: if they are missing this throws DriverInternalsError instead
 * of silently promoting values, and mongodb-source.spec.ts ("BSON types through the real driver")
 * fails on a driver that changed them.
 */
export function keepExactBsonTypes(cs: ChangeStream, onCursor: () => void = () => undefined): void {
  const inner = cs as unknown as DriverChangeStream;
  const create = inner._createChangeStreamCursor;
  if (typeof create !== 'function') throw new DriverInternalsError('ChangeStream._createChangeStreamCursor is not a function');
  const exact = (cursor: DriverCursor | undefined): DriverCursor => {
    if (!cursor || !isOptions(cursor.deserializationOptions)) throw new DriverInternalsError('the change stream cursor has no deserializationOptions');
    cursor.deserializationOptions = { ...cursor.deserializationOptions, ...EXACT_BSON };
    onCursor();
    return cursor;
  };
  // The first cursor was made in the constructor; watch() is lazy, so it has read nothing yet.
  exact(inner.cursor);
  inner._createChangeStreamCursor = function (this: unknown, options: unknown) {
    return exact(create.call(this, options));
  };
}
