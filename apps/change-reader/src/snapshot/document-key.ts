import { EJSON } from 'bson';

/**
 * A document's identity across snapshot rows and change events: canonical Extended JSON of its
 * `_id`, so an int32 1, an int64 1 and a double 1.0 stay three keys, as the lake keeps them.
 */
export function documentKeyOf(id: unknown): string {
  return EJSON.stringify({ _id: id }, { relaxed: false });
}
