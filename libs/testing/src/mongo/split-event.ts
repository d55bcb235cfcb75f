import { calculateObjectSize, type Document, Int32 } from 'bson';
import type { ResumeToken } from './resume-token';
import { ServerError } from './server-error';
import { toBson } from './raw-bson';

/** Largest BSON object the server builds internally (16 MiB + 16 KiB); a larger change event fails with 10334. */
export const BSON_OBJ_MAX_INTERNAL_SIZE = 16 * 1024 * 1024 + 16 * 1024;
/** Largest document a user may store (16 MiB). */
export const BSON_OBJ_MAX_USER_SIZE = 16 * 1024 * 1024;
/** `$changeStreamSplitLargeEvent` splits events above this size (the server's kBSONObjMaxChangeEventSize). */
export const MAX_CHANGE_EVENT_SIZE = BSON_OBJ_MAX_INTERNAL_SIZE - 8 * 1024;

/**
 * `$changeStreamSplitLargeEvent` as the server does it (change_stream_split_event_helpers.cpp):
 * the event's top-level fields except `_id`, ordered by (BSON size, name), are packed greedily
 * into fragments no larger than the limit less the token's size; each fragment opens with its own
 * resume token and `splitEvent: {fragment: n, of: total}`.
 */
export function splitEvent(event: Document, tokenFor: (fragment: number) => ResumeToken): { doc: Document; bytes: Buffer; token: ResumeToken }[] {
  const maxFragment = MAX_CHANGE_EVENT_SIZE - calculateObjectSize(tokenFor(0));
  const fields = Object.keys(event)
    .filter((k) => k !== '_id')
    .map((k) => ({ key: k, size: calculateObjectSize({ [k]: event[k] }) - 5 }))
    .sort((a, b) => a.size - b.size || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (fields.length === 0) throw new ServerError(7182502, "Cannot split an empty event or an event containing solely '_id' field");
  const fragments: { doc: Document; token: ResumeToken; size: number }[] = [];
  for (let i = 0; i < fields.length; ) {
    const token = tokenFor(fragments.length);
    const doc: Document = { _id: token, splitEvent: { fragment: new Int32(fragments.length + 1), of: new Int32(0) } };
    let size = calculateObjectSize(doc);
    do {
      doc[fields[i].key] = event[fields[i].key];
      size += fields[i].size;
    } while (++i < fields.length && size + fields[i].size <= maxFragment);
    if (size > maxFragment) throw new ServerError(7182500, `Splitting change event failed: fragment size ${size} is greater than maximum allowed fragment size ${maxFragment}`);
    fragments.push({ doc, token, size });
  }
  const of = new Int32(fragments.length);
  return fragments.map((f) => {
    (f.doc['splitEvent'] as Document)['of'] = of;
    return { doc: f.doc, token: f.token, bytes: toBson(f.doc) };
  });
}
