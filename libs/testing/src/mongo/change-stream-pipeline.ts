import type { Document } from 'bson';
import { cloneValue, exactEqual, isPlainDocument } from './bson-values';
import { getPath, setPath } from './document-paths';
import { compileProjection } from './projection';
import { compileFilter } from './query-matcher';
import { ServerError } from './server-error';

/**
 * The stages a client may put after `$changeStream`: `$match` (the query language over event
 * fields: `operationType`, `ns.coll`, `fullDocument.x`…), `$project`, `$addFields`/`$set`,
 * `$unset`, `$replaceRoot`/`$replaceWith` (a field path), and `$changeStreamSplitLargeEvent`,
 * which must be the last stage. As on the server, a stage that removes or changes an event's
 * `_id` (its resume token) fails the stream with 280, since it could never be resumed.
 */
export interface UserPipeline {
  /** The event after the stages, or null when a `$match` dropped it. */
  apply: (event: Document) => Document | null;
  /** Whether `$changeStreamSplitLargeEvent` ends the pipeline. */
  split: boolean;
  empty: boolean;
}

export const MODIFIED_ID_MESSAGE =
  'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.';

type Stage = (doc: Document) => Document | null;

export function compileUserPipeline(stages: Document[]): UserPipeline {
  const compiled: Stage[] = [];
  let split = false;
  stages.forEach((stage, i) => {
    const keys = Object.keys(stage);
    if (keys.length !== 1) throw new ServerError(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = keys[0];
    const arg = stage[name];
    if (split) throw new ServerError(7182802, '$changeStreamSplitLargeEvent must be the last stage in the pipeline');
    switch (name) {
      case '$match': {
        const m = compileFilter(arg as Document);
        compiled.push((d) => (m(d) ? d : null));
        break;
      }
      case '$project': {
        const p = compileProjection(arg as Document);
        if (p) compiled.push(p);
        break;
      }
      case '$addFields':
      case '$set': {
        const fields = Object.entries(arg as Document).map(([k, v]) => [k.split('.'), valueOf(v)] as const);
        compiled.push((d) => {
          const out = cloneValue(d);
          for (const [parts, value] of fields) setPath(out, parts, value(d));
          return out;
        });
        break;
      }
      case '$unset': {
        const p = compileProjection(Object.fromEntries((Array.isArray(arg) ? arg : [arg]).map((f) => [String(f), 0])));
        if (p) compiled.push(p);
        break;
      }
      case '$replaceRoot':
      case '$replaceWith': {
        const root = valueOf(name === '$replaceRoot' ? (arg as Document)['newRoot'] : arg);
        compiled.push((d) => {
          const v = root(d);
          if (!isPlainDocument(v)) throw new ServerError(40228, `'newRoot' expression must evaluate to an object, but resulting value was: ${String(v)}`);
          return v;
        });
        break;
      }
      case '$changeStreamSplitLargeEvent':
        if (!isPlainDocument(arg) || Object.keys(arg).length > 0) throw new ServerError(7182800, '$changeStreamSplitLargeEvent spec should be an empty object');
        if (i !== stages.length - 1) throw new ServerError(7182802, '$changeStreamSplitLargeEvent must be the last stage in the pipeline');
        split = true;
        break;
      default:
        throw new ServerError(name.startsWith('$') ? 40602 : 40324, name.startsWith('$') ? `${name} is not permitted in a $changeStream pipeline` : `Unrecognized pipeline stage name: '${name}'`);
    }
  });
  const apply = (event: Document): Document | null => {
    let d: Document | null = event;
    for (const s of compiled) {
      d = s(d);
      if (d === null) return null;
    }
    if (d !== event && !exactEqual(d['_id'], event['_id'])) throw new ServerError(280, MODIFIED_ID_MESSAGE);
    return d;
  };
  return { apply: compiled.length === 0 ? (e) => e : apply, split, empty: compiled.length === 0 };
}

function valueOf(v: unknown): (d: Document) => unknown {
  if (typeof v === 'string' && v.startsWith('$')) {
    const parts = v.slice(1).split('.');
    return (d) => getPath(d, parts);
  }
  if (isPlainDocument(v) && '$literal' in v) return () => v['$literal'];
  if (isPlainDocument(v) && Object.keys(v)[0]?.startsWith('$')) throw new ServerError(2, `expression ${Object.keys(v)[0]} is not supported by the stand-in`);
  return () => v;
}
