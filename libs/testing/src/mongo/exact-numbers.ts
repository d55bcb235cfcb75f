import type { Long } from 'bson';

/**
 * Numbers of every BSON numeric type (int32, int64, double, Decimal128) as exact decimal values,
 * so they compare and key by value the way the server does: the server compares a Decimal128 with
 * a double exactly (it rounds the decimal toward negative infinity and breaks a tie by the
 * "inexact" flag), so `NumberDecimal("0.1")` is below the double 0.1 (0.1000000000000000055…) and
 * `NumberDecimal("1.0000000000000000000000000000001")` is above the int 1 — a plain `Number()`
 * conversion makes both pairs equal (and, in the `_id` index, the same key).
 *
 * A finite value is `coefficient × 10^exponent` with the coefficient's trailing zeros moved into
 * the exponent (one canonical form per value: 100, 1.00E+2 and the double 100 are all 1e2; -0 is 0).
 * Every double is an exact finite decimal (m·2^-k = m·5^k·10^-k).
 */
export type ExactNumber = { kind: 'nan' } | { kind: 'inf'; sign: 1 | -1 } | { kind: 'finite'; coefficient: bigint; exponent: number };

const NAN: ExactNumber = { kind: 'nan' };

function finite(coefficient: bigint, exponent: number): ExactNumber {
  if (coefficient === 0n) return { kind: 'finite', coefficient: 0n, exponent: 0 };
  while (coefficient % 10n === 0n) {
    coefficient /= 10n;
    exponent++;
  }
  return { kind: 'finite', coefficient, exponent };
}

const view = new DataView(new ArrayBuffer(8));

export function exactFromDouble(x: number): ExactNumber {
  if (Number.isNaN(x)) return NAN;
  if (!Number.isFinite(x)) return { kind: 'inf', sign: x > 0 ? 1 : -1 };
  if (Number.isSafeInteger(x)) return finite(BigInt(x), 0);
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (biased === 0) {
    e2 = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    e2 = biased - 1075;
  }
  let coefficient: bigint;
  let exponent = 0;
  if (e2 >= 0) {
    coefficient = mantissa << BigInt(e2);
  } else {
    coefficient = mantissa * 5n ** BigInt(-e2);
    exponent = e2;
  }
  return finite(negative ? -coefficient : coefficient, exponent);
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** From Decimal128's string form ("1.50", "1E+400", "-0", "NaN", "-Infinity"). */
export function exactFromDecimalString(s: string): ExactNumber {
  if (/nan/i.test(s)) return NAN;
  if (/inf/i.test(s)) return { kind: 'inf', sign: s.startsWith('-') ? -1 : 1 };
  const m = DECIMAL.exec(s);
  if (!m) return NAN;
  const frac = m[3] ?? '';
  const coefficient = BigInt(m[2] + frac);
  return finite(m[1] === '-' ? -coefficient : coefficient, Number(m[4] ?? 0) - frac.length);
}

export function exactFromLong(v: Long | bigint): ExactNumber {
  return finite(typeof v === 'bigint' ? v : BigInt(v.toString()), 0);
}

function digits(c: bigint): number {
  return (c < 0n ? -c : c).toString().length;
}

/** Total order of the server's numeric comparison: NaN below every number (and equal to NaN), -∞ < finite < +∞. */
export function compareExact(a: ExactNumber, b: ExactNumber): number {
  if (a.kind === 'nan' || b.kind === 'nan') return a.kind === b.kind ? 0 : a.kind === 'nan' ? -1 : 1;
  if (a.kind === 'inf' || b.kind === 'inf') {
    const sa = a.kind === 'inf' ? a.sign * 2 : 0;
    const sb = b.kind === 'inf' ? b.sign * 2 : 0;
    return sa === sb ? 0 : sa < sb ? -1 : 1;
  }
  const signA = a.coefficient < 0n ? -1 : a.coefficient > 0n ? 1 : 0;
  const signB = b.coefficient < 0n ? -1 : b.coefficient > 0n ? 1 : 0;
  if (signA !== signB) return signA < signB ? -1 : 1;
  if (signA === 0) return 0;
  // Same sign: compare magnitudes by their order of magnitude first, so a huge exponent
  // (Decimal128 reaches 10^6144) never has to be multiplied out.
  const magA = digits(a.coefficient) + a.exponent;
  const magB = digits(b.coefficient) + b.exponent;
  if (magA !== magB) return (magA < magB ? -1 : 1) * signA;
  const e = Math.min(a.exponent, b.exponent);
  const x = a.coefficient * 10n ** BigInt(a.exponent - e);
  const y = b.coefficient * 10n ** BigInt(b.exponent - e);
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * One string per numeric value (the `_id` index key): equal values, whatever their types, share it.
 * An integer below 10^30 prints as its plain digits (what String() gives a safe integer, the fast
 * path of the callers); anything else as `<coefficient>e<exponent>` of the canonical form.
 */
export function exactKey(n: ExactNumber): string {
  if (n.kind === 'nan') return 'NaN';
  if (n.kind === 'inf') return n.sign > 0 ? 'Inf' : '-Inf';
  if (n.exponent >= 0 && digits(n.coefficient) + n.exponent <= 30) return (n.coefficient * 10n ** BigInt(n.exponent)).toString();
  return `${n.coefficient.toString()}e${n.exponent}`;
}
