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
 *   82 TTTTTTTT IIIIIIII 2B 02 KK NNNNNNNN PPPPPPPPPPPPPPPP FFFF 04
 *   time       incr        ver kind instance position     fragment
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

const KIND_CODE: Record<TokenKind, string> = { event: '04', invalidate: '0E', hwm: '00' };
const CODE_KIND: Record<string, TokenKind> = { '04': 'event', '0E': 'invalidate', '00': 'hwm' };

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

export function encodeToken(d: TokenData): ResumeToken {
  return {
    _data: `82${hex(d.ts.t, 8)}${hex(d.ts.i, 8)}2B02${KIND_CODE[d.kind]}${hex(d.instance, 8)}${hex(d.pos, 16)}${d.fragment === undefined ? 'FFFF' : hex(d.fragment, 4)}04`,
  };
}

const SHAPE = /^82([0-9A-F]{8})([0-9A-F]{8})2B02(04|0E|00)([0-9A-F]{8})([0-9A-F]{16})([0-9A-F]{4})04$/i;

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
    fragment: m[6].toUpperCase() === 'FFFF' ? undefined : parseInt(m[6], 16),
  };
}

/** The cluster time at the front of any server's token (`82` + seconds + increment), or undefined. */
export function tokenTimestamp(token: unknown): Timestamp | undefined {
  const data = typeof token === 'object' && token !== null ? (token as { _data?: unknown })._data : undefined;
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return new Timestamp({ t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16) });
}
