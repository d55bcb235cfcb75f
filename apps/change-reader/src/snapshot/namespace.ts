/** `db.coll` → [db, coll] (a database name has no dot; a collection name may). */
export function splitNamespace(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}
