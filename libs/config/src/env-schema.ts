import { z } from 'zod';
import { Secret } from './secret';

/**
 * Building blocks for service configuration schemas. Each takes its value from one environment
 * variable (the object key in the service's schema), so error messages can name the variable.
 */

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Empty strings count as unset: `FOO=` in a compose file or ConfigMap should mean "use the default". */
function emptyAsUnset(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

export function int(defaultValue: number, opts: { min?: number; max?: number } = {}) {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .regex(/^-?\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .prefault(String(defaultValue)),
  ) as unknown as z.ZodType<number>;
}

export function port(defaultValue: number) {
  return int(defaultValue, { min: 0, max: 65535 });
}

/** Seconds as a decimal number (REQUEST_TIMEOUT=2.5), returned in milliseconds. */
export function secondsAsMs(defaultSeconds: number, opts: { min?: number; max?: number } = {}) {
  const { min = 0, max = 86_400 } = opts;
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds, e.g. 30 or 2.5')
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min} s`).max(max, `must be at most ${max} s`))
      .transform((s) => Math.round(s * 1000))
      .prefault(String(defaultSeconds)),
  ) as unknown as z.ZodType<number>;
}

export function bool(defaultValue: boolean) {
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .transform((v, ctx) => {
        const s = v.trim().toLowerCase();
        if (TRUE.has(s)) return true;
        if (FALSE.has(s)) return false;
        ctx.addIssue({ code: 'custom', message: 'must be true or false' });
        return z.NEVER;
      })
      .prefault(String(defaultValue)),
  ) as unknown as z.ZodType<boolean>;
}

export function str(defaultValue: string) {
  return z.preprocess(emptyAsUnset, z.string().prefault(defaultValue)) as unknown as z.ZodType<string>;
}

/** A string that must be set. */
export function requiredStr() {
  return z.preprocess(emptyAsUnset, z.string({ error: 'is required' }).min(1, 'is required')) as unknown as z.ZodType<string>;
}

export function optionalStr() {
  return z.preprocess(emptyAsUnset, z.string().optional()) as unknown as z.ZodType<string | undefined>;
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z.preprocess(
    // Case-insensitive, but the value is the canonical spelling: FULL_DOCUMENT=updateLookup (as
    // MongoDB spells it) and =updatelookup both give 'updateLookup' (lowercasing the input alone
    // refused every mixed-case value, the documented one included).
    (v) => {
      if (typeof emptyAsUnset(v) !== 'string') return undefined;
      const given = (v as string).trim();
      return values.find((x) => x.toLowerCase() === given.toLowerCase()) ?? given;
    },
    z.enum(values, { error: () => `must be one of ${values.join(', ')}` }).prefault(defaultValue),
  ) as unknown as z.ZodType<T[number]>;
}

export function url(opts: { optional: true; protocols?: string[] }): z.ZodType<string | undefined>;
export function url(opts: { default: string; protocols?: string[] }): z.ZodType<string>;
export function url(opts: { optional?: true; default?: string; protocols?: string[] }): z.ZodType<string | undefined> {
  const protocols = opts.protocols ?? ['http', 'https'];
  const inner = z.url({
    protocol: new RegExp(`^(${protocols.join('|')})$`),
    error: `must be an absolute URL such as ${protocols[0]}://host:port`,
  });
  return z.preprocess(
    emptyAsUnset,
    opts.default !== undefined ? inner.prefault(opts.default) : inner.optional(),
  ) as unknown as z.ZodType<string | undefined>;
}

/** Comma-separated list; blanks dropped. */
export function list(defaultValue: string[] = []) {
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .prefault(defaultValue.join(',')),
  ) as unknown as z.ZodType<string[]>;
}

/** A secret string; never printed (see Secret). */
export function secret() {
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .transform((v) => new Secret(v))
      .optional(),
  ) as unknown as z.ZodType<Secret | undefined>;
}

/** A comma-separated list of secrets (e.g. API keys). */
export function secretList() {
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .transform(
        (v) =>
          new Secret(
            v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          ),
      )
      .optional(),
  ) as unknown as z.ZodType<Secret<string[]> | undefined>;
}

/** Byte sizes such as 1mb, 512kb, 1048576. */
export function bytes(defaultValue: string) {
  const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  return z.preprocess(
    emptyAsUnset,
    z
      .string()
      .transform((v, ctx) => {
        const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
        if (!m) {
          ctx.addIssue({ code: 'custom', message: 'must be a size such as 1048576, 512kb or 1mb' });
          return z.NEVER;
        }
        return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]);
      })
      .prefault(defaultValue),
  ) as unknown as z.ZodType<number>;
}
