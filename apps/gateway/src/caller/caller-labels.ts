/** Callers counted under their own name at most; the rest share OTHER_CALLERS (JWT subjects can be one per end user). */
export const MAX_CALLER_LABELS = 1_000;
export const OTHER_CALLERS = '_other';

/**
 * The `caller` label value for a caller's name: its own name for the first `max` names seen, then
 * OTHER_CALLERS, so metrics keep a bounded number of series whatever the identity provider issues.
 */
export class CallerLabels {
  readonly #names = new Set<string>();

  constructor(readonly max = MAX_CALLER_LABELS) {}

  of(name: string): string {
    if (this.#names.has(name)) return name;
    if (this.#names.size >= this.max) return OTHER_CALLERS;
    this.#names.add(name);
    return name;
  }
}
