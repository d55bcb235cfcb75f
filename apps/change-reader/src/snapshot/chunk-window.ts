import { documentKeyOf } from './document-key';

/**
 * One chunk read between a low and a high watermark (DBLog; Debezium's incremental snapshot): the
 * stream keeps flowing while the chunk is read, and every change event seen inside the window for
 * a key the chunk holds removes that key's row, because the event is newer than (or as new as)
 * what the read saw, and the event reaches the lake anyway. What is left after the high watermark
 * goes to the lake as snapshot rows, before any event after the window: no snapshot row ever lands
 * after a newer change of the same document.
 */
export class ChunkWindow<Row extends { _id: unknown }> {
  readonly #rows = new Map<string, Row>();
  #dropped = 0;

  constructor(rows: readonly Row[]) {
    for (const row of rows) this.#rows.set(documentKeyOf(row._id), row);
  }

  /** A change event inside the window: its document's chunk row (if any) is stale or superseded. */
  changed(documentKey: { _id?: unknown } | undefined): void {
    if (!documentKey || !('_id' in documentKey)) return;
    if (this.#rows.delete(documentKeyOf(documentKey._id))) this.#dropped++;
  }

  /** The rows still to emit, in the order they were read. */
  get rows(): Row[] {
    return [...this.#rows.values()];
  }

  /** Rows removed because a change event for the same key came inside the window. */
  get dropped(): number {
    return this.#dropped;
  }
}
