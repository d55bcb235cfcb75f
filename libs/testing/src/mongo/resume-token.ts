import { Timestamp } from 'bson';

/**
 * Resume tokens in the server's shape: `{_data: '<hex>'}`, a KeyString that opens like a real
 * server's (since 4.2): type byte `82`, then the cluster time's seconds and increment as 8 hex
 * digits each, big endian — readers that parse that prefix (Debezium does, so does Runnel's
 * tokenClusterTime) see the right time. The rest is the stand-in's own: a version byte, the kind
 * (an event, an invalidate, a split event's fragment, or a high-water mark that stands for "every
 * entry up to here"), the stand-in instance that issued it, and the oplog position, so a token is
 * resolved in O(1) without a lookup table.
 *
 *   82 TTTTTTTT IIIIIIII 2B 02 KK NNNNNNNN PPPPPPPPPPPPPPPP FFFF [NNNN] 04
 *   time       incr        ver kind instance position          fragment
 *
 * A split event's fragment has its event's token with the fragment number appended before the end
 * byte, as mongod's do (its KeyString gains the fragment number, SERVER-71825): a reader can tell
 * which event a fragment's token belongs to by that prefix, as Runnel's reader does to find a
 * split event again (unsplittable-event.ts isFragmentOf).
 */
export type TokenKind = 'event' | 'invalidate' | 'hwm';

export interface TokenData {
  ts: Timestamp;
  kind: TokenKind;
  /** The stand-in instance that issued it (tokens from another instance name other entries). */
  instance: number;
  /** The oplog position: resuming continues after this entry (a fragment: after this fragment of it). */
  pos: number;
  /** A split event's fragment, 0-based, or undefined for a whole event. */
  fragment?: number;
}

export interface ResumeToken {
  _data: string;
}

const CODE_KIND: Record<string, TokenKind> = { '04': 'event', '0E': 'invalidate', '00': 'hwm' };

const KIND_BYTE: Record<TokenKind, number> = { event: 0x04, invalidate: 0x0e, hwm: 0x00 };
/** Scratch space for one token (29 bytes with a fragment), turned into hex at once: tokens are made per event, so this is hot. */
const scratch = Buffer.alloc(29);

export function encodeToken(d: TokenData): ResumeToken {
  scratch[0] = 0x82;
  scratch.writeUInt32BE(d.ts.t >>> 0, 1);
  scratch.writeUInt32BE(d.ts.i >>> 0, 5);
  scratch[9] = 0x2b;
  scratch[10] = 0x02;
  scratch[11] = KIND_BYTE[d.kind];
  scratch.writeUInt32BE(d.instance >>> 0, 12);
  scratch.writeUInt32BE(Math.floor(d.pos / 2 ** 32), 16);
  scratch.writeUInt32BE(d.pos >>> 0, 20);
  scratch.writeUInt16BE(0xffff, 24);
  let end = 26;
  if (d.fragment !== undefined) {
    scratch.writeUInt16BE(d.fragment, 26);
    end = 28;
  }
  scratch[end] = 0x04;
  return { _data: scratch.toString('hex', 0, end + 1).toUpperCase() };
}

const SHAPE = /^82([0-9A-F]{8})([0-9A-F]{8})2B02(04|0E|00)([0-9A-F]{8})([0-9A-F]{16})FFFF([0-9A-F]{4})?04$/i;

/** The token's fields; undefined for a value that is not a token of this shape (another server's token). */
export function decodeToken(token: unknown): TokenData | undefined {
  const data = typeof token === 'object' && token !== null ? (token as { _data?: unknown })._data : undefined;
  if (typeof data !== 'string') return undefined;
  const m = SHAPE.exec(data);
  if (!m) return undefined;
  return {
    ts: new Timestamp({ t: parseInt(m[1], 16), i: parseInt(m[2], 16) }),
    kind: CODE_KIND[m[3].toUpperCase()],
    instance: parseInt(m[4], 16),
    pos: parseInt(m[5], 16),
    fragment: m[6] === undefined ? undefined : parseInt(m[6], 16),
  };
}

/** The cluster time at the front of any server's token (`82` + seconds + increment), or undefined. */
export function tokenTimestamp(token: unknown): Timestamp | undefined {
  const data = typeof token === 'object' && token !== null ? (token as { _data?: unknown })._data : undefined;
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return new Timestamp({ t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16) });
}
