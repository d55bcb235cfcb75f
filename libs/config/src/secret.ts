import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A configuration value that must never be printed. Every way a value escapes into text
 * (String(), template literals, JSON.stringify, util.inspect / pino) yields "[redacted]";
 * only `reveal()` hands out the real value, so a leak needs an explicit call in the code.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Every secret string in a parsed config, for scrubbing text the service did not write itself
 * (an upstream error that echoes a key). Short values are skipped: replacing "abc" everywhere
 * would garble logs and protects little.
 */
export function secretValues(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const value of Object.values(config)) {
    if (!(value instanceof Secret)) continue;
    const raw = value.reveal();
    for (const v of Array.isArray(raw) ? raw : [raw]) if (typeof v === 'string' && v.length >= 6) out.push(v);
  }
  return out;
}

export { REDACTED };
