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

/** Replaces every occurrence of each secret's text in `text`, for error messages built by libraries. */
export function redactText(text: string, secrets: Iterable<Secret<unknown>>): string {
  let out = text;
  for (const secret of secrets) {
    const raw = secret.reveal();
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value === 'string' && value.length >= 4) out = out.split(value).join(REDACTED);
    }
  }
  return out;
}

export { REDACTED };
