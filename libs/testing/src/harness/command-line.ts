/** Thrown when a tool's option has a value it cannot use; the message names the option. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** What a tool declares of its options, for CommandLine. */
export interface OptionNames {
  /** Options that take a value: given as `--name value` too, read as `--name=value`. */
  values?: readonly string[];
  /** Bare flags (`--name`): never take the next argument. */
  flags?: readonly string[];
}

/**
 * A tool's options: `--name=value` (or a bare `--name`, read as "true"), else the environment variable
 * given beside it, else the fallback. One parser for every bench and load tool, so that each option
 * reads the same way everywhere and a bad value is refused with the option's name.
 *
 * With `names`, the options listed in `values` may also be given as `--name value` (only those: a
 * bare `--flag` followed by a positional argument is still a flag and a positional), and an option
 * in neither `values` nor `flags` is refused (OptionError `unknown option --name`), as is a listed
 * value option with nothing after it.
 */
export class CommandLine {
  /** The arguments, each `--name value` of a declared value option joined into `--name=value`. */
  readonly argv: string[];

  constructor(
    argv: string[] = process.argv.slice(2),
    private readonly env: NodeJS.ProcessEnv = process.env,
    names?: OptionNames,
  ) {
    this.argv = names ? joinValues(argv, names) : argv;
  }

  option(name: string, envName?: string): string | undefined;
  option(name: string, envName: string | undefined, fallback: string): string;
  option(name: string, envName?: string, fallback?: string): string | undefined {
    const flag = this.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
    return (envName ? this.env[envName] : undefined) ?? fallback;
  }

  /** A bare flag: `--name` given (or `--name=true`). */
  has(name: string): boolean {
    return this.argv.some((a) => a === `--${name}` || a === `--${name}=true`);
  }

  /** A positive number (fractions allowed). */
  number(name: string, envName: string | undefined, fallback: number): number {
    const raw = this.option(name, envName, String(fallback));
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new OptionError(`--${name}${envName ? ` (${envName})` : ''}: expected a positive number, got "${raw}"`);
    return v;
  }

  /** A whole number ≥ `min` (default 1). */
  integer(name: string, envName: string | undefined, fallback: number, min = 1): number {
    const raw = this.option(name, envName, String(fallback));
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min) throw new OptionError(`--${name}${envName ? ` (${envName})` : ''}: expected a whole number ≥ ${min}, got "${raw}"`);
    return v;
  }

  /** A comma-separated list, blanks dropped. */
  list(name: string, envName: string | undefined, fallback: string): string[] {
    return splitList(this.option(name, envName, fallback));
  }

  /** Positional arguments (those not starting with --). */
  get positional(): string[] {
    return this.argv.filter((a) => !a.startsWith('--'));
  }
}

export function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** `--name value` → `--name=value` for the declared value options; an undeclared option is refused. */
function joinValues(argv: string[], { values = [], flags = [] }: OptionNames): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out.push(a);
      continue;
    }
    const name = a.includes('=') ? a.slice(2, a.indexOf('=')) : a.slice(2);
    if (!values.includes(name) && !flags.includes(name)) throw new OptionError(`unknown option --${name}`);
    if (a.includes('=') || !values.includes(name)) {
      out.push(a);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new OptionError(`--${name}: missing value`);
    out.push(`${a}=${value}`);
    i++;
  }
  return out;
}
