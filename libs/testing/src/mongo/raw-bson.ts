import { calculateObjectSize, type Document, serialize } from 'bson';

/**
 * Builds BSON from pieces that are already serialized, so a batch of change events is encoded
 * once (each event is serialized anyway, to know its size) and copied into the reply instead of
 * being deserialized and serialized again.
 */
const TYPE_STRING = 0x02;
const TYPE_DOCUMENT = 0x03;
const TYPE_ARRAY = 0x04;
const TYPE_DATE = 0x09;
const TYPE_NULL = 0x0a;
const TYPE_TIMESTAMP = 0x11;

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
export function cursorReply(batchField: 'firstBatch' | 'nextBatch', docs: readonly Buffer[] | BatchBuilder, cursorFields: Document, top: Document): Buffer {
  const batch = docs instanceof BatchBuilder ? docs.finish() : arrayOf(docs);
  const cursor = documentOf([element(batchField, batch, true), elementsOf(cursorFields)]);
  return documentOf([element('cursor', cursor), elementsOf(top)]);
}

function isPlainObject(v: unknown): v is Document {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * A batch being built: a BSON array whose elements are written straight into one growing buffer,
 * so a getMore of thousands of events makes one allocation instead of several per event. Change
 * events are written field by field (strings, the token, Timestamp, Date and null directly; the
 * documents an event carries serialized by bson and copied in; anything else through bson).
 */
export class BatchBuilder {
  #buf = Buffer.allocUnsafe(64 * 1024);
  #len = 4;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** Bytes of documents written so far (the batch's size as the server counts it, near enough). */
  get bytes(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  #key(): void {
    const key = String(this.#count);
    this.#ensure(2 + key.length);
    this.#buf[this.#len++] = TYPE_DOCUMENT;
    this.#len += this.#buf.write(key, this.#len, 'latin1');
    this.#buf[this.#len++] = 0;
  }

  /** Appends a serialized document. */
  push(doc: Buffer): void {
    this.#key();
    this.#ensure(doc.length);
    this.#len += doc.copy(this.#buf, this.#len);
    this.#count++;
  }

  /**
   * Appends a change event and returns its BSON size. `fits(size)` decides whether it stays: if
   * not, the batch is as before and the size is returned all the same.
   */
  pushEvent(ev: Document, fits: (size: number) => boolean): { size: number; kept: boolean } {
    const start = this.#len;
    this.#key();
    const docStart = this.#len;
    this.#ensure(4);
    this.#len += 4;
    for (const key of Object.keys(ev)) this.#field(key, ev[key]);
    this.#ensure(1);
    this.#buf[this.#len++] = 0;
    const size = this.#len - docStart;
    this.#buf.writeInt32LE(size, docStart);
    if (!fits(size)) {
      this.#len = start;
      return { size, kept: false };
    }
    this.#count++;
    return { size, kept: true };
  }

  #name(type: number, key: string): void {
    this.#ensure(2 + key.length * 3);
    this.#buf[this.#len++] = type;
    this.#len += this.#buf.write(key, this.#len, 'utf8');
    this.#buf[this.#len++] = 0;
  }

  #field(key: string, v: unknown): void {
    if (typeof v === 'string') {
      this.#name(TYPE_STRING, key);
      this.#ensure(5 + v.length * 3);
      const n = this.#buf.write(v, this.#len + 4, 'utf8');
      this.#buf.writeInt32LE(n + 1, this.#len);
      this.#len += 4 + n;
      this.#buf[this.#len++] = 0;
    } else if (v === null) {
      this.#name(TYPE_NULL, key);
    } else if (v instanceof Date) {
      this.#name(TYPE_DATE, key);
      this.#ensure(8);
      this.#buf.writeBigInt64LE(BigInt(v.getTime()), this.#len);
      this.#len += 8;
    } else if ((v as { _bsontype?: string } | undefined)?._bsontype === 'Timestamp') {
      const ts = v as { t: number; i: number };
      this.#name(TYPE_TIMESTAMP, key);
      this.#ensure(8);
      this.#buf.writeUInt32LE(ts.i >>> 0, this.#len);
      this.#buf.writeUInt32LE(ts.t >>> 0, this.#len + 4);
      this.#len += 8;
    } else if (v === undefined) {
      // Like bson's ignoreUndefined.
    } else if (isPlainObject(v)) {
      const b = toBson(v);
      this.#name(TYPE_DOCUMENT, key);
      this.#ensure(b.length);
      this.#len += b.copy(this.#buf, this.#len);
    } else {
      const b = elementsOf({ [key]: v });
      this.#ensure(b.length);
      this.#len += b.copy(this.#buf, this.#len);
    }
  }

  /** The BSON array. */
  finish(): Buffer {
    this.#ensure(1);
    this.#buf[this.#len++] = 0;
    this.#buf.writeInt32LE(this.#len, 0);
    return this.#buf.subarray(0, this.#len);
  }
}
