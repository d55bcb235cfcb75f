import type { Binary, Document } from 'bson';
import { num } from './bson-values';

/**
 * Retryable writes: a write sent with a session and a `txnNumber` runs at most once. The reply is
 * kept under (lsid, txnNumber); the driver's retry of the same statement (after a dropped
 * connection or a NotWritablePrimary) gets that reply back instead of writing again — what makes
 * "the reply was lost after the write" safe on a real server.
 */
export class RetryableWrites {
  readonly #replies = new Map<string, Document>();

  constructor(readonly capacity = 10_000) {}

  /** The key of a retryable write, or undefined (no session, no txnNumber, or inside a transaction). */
  key(body: Document): string | undefined {
    const lsid = body['lsid'] as Document | undefined;
    const txn = num(body['txnNumber']);
    if (!lsid || txn === undefined || body['autocommit'] !== undefined) return undefined;
    const id = lsid['id'] as Binary | undefined;
    if (!id || typeof id.toString !== 'function') return undefined;
    return `${id.toString('hex')}:${txn}`;
  }

  get(key: string): Document | undefined {
    return this.#replies.get(key);
  }

  set(key: string, reply: Document): void {
    this.#replies.set(key, reply);
    if (this.#replies.size > this.capacity) this.#replies.delete(this.#replies.keys().next().value as string);
  }
}
