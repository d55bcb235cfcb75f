/**
 * The documents the snapshot chaos run seeds before any reader starts: deterministic from a seed
 * (regenerated at check time, so the run keeps no copy of 100,000 documents), spread over several
 * collections, with `_id`s of every BSON type a collection can hold side by side. The snapshot must
 * walk them in the `_id` index's order across type brackets (MinKey < null < numbers < strings <
 * objects < binData < ObjectId < bool < date < timestamp < MaxKey), so each collection mixes them.
 *
 * The `_id`s are unique under MongoDB's comparison, not only as text: int32 1, int64 1 and double 1.0
 * are one `_id` to the server (a duplicate key), so the numeric kinds use disjoint values — int32
 * from 10,000,000, int64 above int32 (some above 2^53, where a double cannot tell neighbours apart),
 * negative fractional doubles, Decimal128 ending in .25 — plus a few pairs the server keeps apart only
 * when it compares exactly (Decimal128 0.1 and the double 0.1; int64 2^53+1 and the double 2^53).
 */
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'mongodb';
import { prng } from '../mongo/workload';

/** The seeded collections, in the order the snapshot reads them (by name). */
export const SEED_COLLECTIONS = ['customers', 'inventory', 'orders', 'products'] as const;

/**
 * `_id`s each collection holds once (single values, and pairs the server keeps apart only when it
 * compares numbers exactly): the first SINGLETONS.length × collections documents.
 */
const SINGLETONS: (() => unknown)[] = [
  () => new MinKey(),
  () => new MaxKey(),
  () => null,
  () => true,
  () => false,
  () => Decimal128.fromString('0.1'),
  () => new Double(0.1),
  () => Long.fromString('9007199254740993'),
  () => new Double(9007199254740992),
];

/** How many `_id` kinds the generator cycles through after the singletons. */
const KINDS = 12;


/** The `_id` of seeded document `j`: a function of the seed and `j` only. */
export function seededId(seed: number, j: number): unknown {
  const first = SINGLETONS.length * SEED_COLLECTIONS.length;
  if (j < first) return SINGLETONS[Math.floor(j / SEED_COLLECTIONS.length)]();
  const k = j - first;
  const prefix = (seed >>> 0).toString(16).padStart(8, '0');
  // Consecutive documents of one collection (j steps by the number of collections) cycle through the kinds.
  switch (Math.floor(k / SEED_COLLECTIONS.length) % KINDS) {
    case 0:
      return new ObjectId(`${prefix}5eed${k.toString(16).padStart(12, '0')}`);
    case 1:
      return `cust-${String(k).padStart(7, '0')}`;
    case 2:
      // Not ASCII: the index orders strings by their bytes (UTF-8), not by UTF-16 code units.
      return `é-${k}-ü`;
    case 3:
      return new Int32(10_000_000 + k);
    case 4:
      // Half of them odd and above 2^53: no double can hold them.
      return k % 2 ? Long.fromBigInt(2n ** 53n + 2n * BigInt(k) + 1n) : Long.fromNumber(5_000_000_000 + k);
    case 5:
      return new Double(-(k + 0.5));
    case 6:
      return Decimal128.fromString(`${k}.25`);
    case 7:
      return new Date(Date.UTC(2020, 0, 1) + k * 1000);
    case 8:
      return k % 3 ? new Binary(Buffer.from(`bin-${k}`), 0) : new Binary(Buffer.from(k.toString(16).padStart(32, '0'), 'hex'), 4);
    case 9:
      // A compound key: objects compare field by field, in order.
      return { a: new Int32(k % 7), b: `x-${k}` };
    case 10:
      return { region: 'eu', n: { k: new Int32(k) } };
    default:
      return new Timestamp({ t: 1_600_000_000 + k, i: 1 + (k % 5) });
  }
}

/** The collection seeded document `j` lives in (round robin, so every collection holds every kind). */
export function seededCollection(j: number): string {
  return SEED_COLLECTIONS[j % SEED_COLLECTIONS.length];
}

/** Deterministic filler text (not one repeated character, so compression sees something like real data). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
function filler(seed: number, j: number, length: number): string {
  const random = prng((seed ^ Math.imul(j + 1, 0x9e3779b1)) >>> 0);
  let out = '';
  while (out.length < length) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return out;
}

/**
 * Seeded document `j`: its `_id`, then values of every common BSON type, explicit wrappers
 * everywhere (an integral double stays a double, an int64 an int64), so its canonical EJSON is what
 * the server stores and a snapshot row of an untouched document must equal it byte for byte.
 * `textBytes` pads it with a filler string (the document is then ~400 + textBytes bytes of BSON).
 */
export function seededDocument(seed: number, j: number, textBytes = 0): Document {
  return {
    _id: seededId(seed, j),
    seeded: new Int32(j),
    version: new Int32(0),
    name: `document ${j} — seeded`,
    price: new Double(j % 50),
    ratio: new Double((j % 97) / 7),
    count: new Int32(j % 1000),
    total: Long.fromNumber(j * 1_000_003),
    amount: Decimal128.fromString(`${j}.${String(j % 100).padStart(2, '0')}`),
    at: new Date(Date.UTC(2025, 5, 1) + j * 60_000),
    ref: new ObjectId(j.toString(16).padStart(24, '0')),
    bin: new Binary(Buffer.from(`seed-${j}`), 0),
    ts: new Timestamp({ t: 1_700_000_000 + j, i: 1 }),
    flag: j % 2 === 0,
    none: null,
    low: new MinKey(),
    high: new MaxKey(),
    pattern: new BSONRegExp(`^p${j % 10}\\d+$`, 'i'),
    tags: [`t${j % 5}`, `t${j % 3}`],
    nested: { grid: [[new Int32(j), new Double(j + 0.5)], [Long.fromNumber(j)]], note: { text: `note ${j}`, at: new Date(Date.UTC(2025, 0, 1)) } },
    ...(textBytes > 0 ? { text: filler(seed, j, textBytes) } : {}),
  };
}
