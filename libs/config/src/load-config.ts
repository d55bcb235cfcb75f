import { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error';
import { exitProcess } from './exit-process';

export type EnvShape = Record<string, z.ZodType>;
export type ConfigOf<S extends EnvShape> = { [K in keyof S]: z.output<S[K]> };

/** Parses `env` against a schema whose keys are environment variable names. Throws ConfigError. */
export function parseConfig<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) input[key] = env[key];
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data as ConfigOf<S>;
  const problems: ConfigProblem[] = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? '(unknown)'),
    // zod's messages for our builders never echo the input value; custom ones are written to not do so either.
    reason: issue.message,
  }));
  throw new ConfigError(problems);
}

/**
 * For service start-up: the parsed config, or — with every bad variable listed on stderr (no logger
 * yet, so plain text that any log collector shows as-is) — undefined, and the process exits 1 as
 * soon as its event loop is empty (exitProcess). The caller must then start nothing:
 *
 *   const config = loadConfigOrExit('gateway', GatewayConfigSchema);
 *   if (config) startGateway(config);
 */
export function loadConfigOrExit<S extends EnvShape>(
  service: string,
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> | undefined {
  try {
    return parseConfig(shape, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      exitProcess(1);
      return undefined;
    }
    throw err;
  }
}
