import { calculateObjectSize, type Document, serialize } from 'bson';

/**
 * Builds BSON from pieces that are already serialized, so a batch of change events is encoded
 * once (each event is serialized anyway, to know its size) and copied into the reply instead of
 * being deserialized and serialized again.
 */
const TYPE_DOCUMENT = 0x03;
const TYPE_ARRAY = 0x04;

/** A BSON array of serialized documents (`[doc0, doc1, …]`). */
export function arrayOf(docs: readonly Buffer[]): Buffer {
  let size = 5;
  const keys: Buffer[] = [];
  for (let i = 0; i < docs.length; i++) {
    const key = Buffer.from(String(i), 'latin1');
    keys.push(key);
    size += 1 + key.length + 1 + docs[i].length;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let at = 4;
  for (let i = 0; i < docs.length; i++) {
    out[at++] = TYPE_DOCUMENT;
    at += keys[i].copy(out, at);
    out[at++] = 0;
    at += docs[i].copy(out, at);
  }
  out[at] = 0;
  return out;
}

/** One element `name: <embedded document or array>`. */
export function element(name: string, value: Buffer, array = false): Buffer {
  const key = Buffer.from(name, 'utf8');
  const out = Buffer.allocUnsafe(1 + key.length + 1 + value.length);
  out[0] = array ? TYPE_ARRAY : TYPE_DOCUMENT;
  key.copy(out, 1);
  out[1 + key.length] = 0;
  value.copy(out, 2 + key.length);
  return out;
}

/** A document's BSON as a Buffer (bson hands out Buffers under Node; typed as Uint8Array). */
export function toBson(doc: Document): Buffer {
  let u: Uint8Array;
  try {
    u = serialize(doc);
  } catch (e) {
    // bson serializes into a 17 MB scratch buffer; for a larger document (a change event carrying
    // two 10 MiB images) the scratch buffer is grown to fit (bson's minInternalBufferSize option).
    // (Duck-typed: under jest, Node's own RangeError comes from another realm than the test's.)
    const err = e as { name?: unknown; code?: unknown };
    if (err?.name !== 'RangeError' && err?.code !== 'ERR_OUT_OF_RANGE') throw e;
    u = serialize(doc, { minInternalBufferSize: calculateObjectSize(doc) + 1024 } as Parameters<typeof serialize>[1]);
  }
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The element list of a document (without its length prefix and terminator). */
export function elementsOf(doc: Document): Buffer {
  const b = toBson(doc);
  return b.subarray(4, b.length - 1);
}

/** A document from element lists. */
export function documentOf(parts: readonly Buffer[]): Buffer {
  const size = 4 + parts.reduce((n, p) => n + p.length, 0) + 1;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let at = 4;
  for (const p of parts) at += p.copy(out, at);
  out[at] = 0;
  return out;
}

/**
 * A cursor reply body: `{cursor: {<batchField>: [...docs], ...cursorFields}, ...top}` with the
 * batch copied in as bytes.
 */
export function cursorReply(batchField: 'firstBatch' | 'nextBatch', docs: readonly Buffer[], cursorFields: Document, top: Document): Buffer {
  const cursor = documentOf([element(batchField, arrayOf(docs), true), elementsOf(cursorFields)]);
  return documentOf([element('cursor', cursor), elementsOf(top)]);
}
