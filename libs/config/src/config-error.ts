/** One invalid environment variable: its name and why it was refused (never its value). */
export interface ConfigProblem {
  variable: string;
  reason: string;
}

/**
 * Thrown by `parseConfig` when one or more environment variables are invalid. The message lists
 * every problem by variable name; values are never included, so secrets cannot leak through it.
 */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
