import { deserialize, type Document } from 'bson';

/**
 * MongoDB wire protocol framing: the 16-byte header, OP_MSG (flag bits, a body section and
 * document sequences, which are folded into the body under their identifier), the legacy
 * OP_QUERY a driver sends for its first `isMaster` before it knows the server's wire version, and
 * the OP_MSG / OP_REPLY answers.
 *
 * Command documents are decoded with `promoteValues: false` and `bsonRegExp: true`, so written
 * documents keep their exact BSON types (a double 5.0 stays a Double, an int32 an Int32).
 */
export const OP_REPLY = 1;
export const OP_COMPRESSED = 2012;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

/** OP_MSG flag bits. */
const CHECKSUM_PRESENT = 1;
const MORE_TO_COME = 2;
const EXHAUST_ALLOWED = 1 << 16;

export interface WireRequest {
  requestId: number;
  opCode: number;
  db: string;
  body: Document;
  /** OP_MSG moreToCome: the client expects no reply (unacknowledged write). */
  moreToCome: boolean;
  exhaustAllowed: boolean;
}

export const DECODE_OPTIONS = { promoteValues: false, bsonRegExp: true } as const;

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/**
 * Cuts a byte stream into whole messages without copying chunk after chunk: chunks are kept
 * until a message is complete, then joined once.
 */
export class MessageFramer {
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(readonly maxMessageSize: number) {}

  /** Adds received bytes; returns the messages now complete. Throws WireFormatError on a bad length. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const out: Buffer[] = [];
    while (this.#length >= 4) {
      const head = this.#chunks[0].length >= 4 ? this.#chunks[0] : this.#join();
      const size = head.readInt32LE(0);
      if (size < 16 || size > this.maxMessageSize) throw new WireFormatError(`message length ${size} is out of range (max ${this.maxMessageSize})`);
      if (this.#length < size) break;
      const all = this.#join();
      out.push(all.subarray(0, size));
      const rest = all.subarray(size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#length = rest.length;
    }
    return out;
  }

  #join(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0];
  }
}

export function parseRequest(msg: Buffer): WireRequest {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    const end = msg.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let body: Document | undefined;
    const sequences: [string, Document[]][] = [];
    for (let i = 20; i < end; ) {
      const kind = msg[i++];
      const size = msg.readInt32LE(i);
      if (kind === 0) {
        body = deserialize(msg.subarray(i, i + size), DECODE_OPTIONS);
      } else if (kind === 1) {
        const idEnd = msg.indexOf(0, i + 4);
        const identifier = msg.toString('utf8', i + 4, idEnd);
        const docs: Document[] = [];
        for (let j = idEnd + 1; j < i + size; ) {
          const n = msg.readInt32LE(j);
          docs.push(deserialize(msg.subarray(j, j + n), DECODE_OPTIONS));
          j += n;
        }
        sequences.push([identifier, docs]);
      } else {
        throw new WireFormatError(`unknown OP_MSG section kind ${kind}`);
      }
      i += size;
    }
    if (!body) throw new WireFormatError('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) body[identifier] = docs;
    const db = typeof body['$db'] === 'string' ? body['$db'] : 'admin';
    return { requestId, opCode, db, body, moreToCome: (flags & MORE_TO_COME) !== 0, exhaustAllowed: (flags & EXHAUST_ALLOWED) !== 0 };
  }
  if (opCode === OP_QUERY) {
    // flags(4) fullCollectionName(cstring) numberToSkip(4) numberToReturn(4) query [fieldSelector]
    const nsEnd = msg.indexOf(0, 20);
    const ns = msg.toString('utf8', 20, nsEnd);
    const at = nsEnd + 9;
    let body = deserialize(msg.subarray(at, at + msg.readInt32LE(at)), DECODE_OPTIONS);
    if (body['$query'] && typeof body['$query'] === 'object') body = body['$query'] as Document;
    return { requestId, opCode, db: ns.split('.')[0], body, moreToCome: false, exhaustAllowed: false };
  }
  throw new WireFormatError(`unsupported opCode ${opCode}${opCode === OP_COMPRESSED ? ' (compression is not supported by the stand-in)' : ''}`);
}

/** An answer to `requestId`, in the form the request came in (OP_REPLY for OP_QUERY). */
export function encodeReply(requestId: number, responseTo: number, requestOpCode: number, doc: Buffer): Buffer {
  if (requestOpCode === OP_QUERY) {
    const out = Buffer.allocUnsafe(16 + 20 + doc.length);
    out.writeInt32LE(out.length, 0);
    out.writeInt32LE(requestId, 4);
    out.writeInt32LE(responseTo, 8);
    out.writeInt32LE(OP_REPLY, 12);
    out.writeInt32LE(0, 16); // responseFlags
    out.writeBigInt64LE(0n, 20); // cursorID
    out.writeInt32LE(0, 28); // startingFrom
    out.writeInt32LE(1, 32); // numberReturned
    doc.copy(out, 36);
    return out;
  }
  const out = Buffer.allocUnsafe(16 + 5 + doc.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, 16); // flagBits
  out[20] = 0; // section kind 0: body
  doc.copy(out, 21);
  return out;
}
