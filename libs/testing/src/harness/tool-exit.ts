import { OptionError } from './command-line';
import { liveChildren } from './child';

/**
 * For a tool's main module (a bench, a load run): SIGINT, SIGTERM, an uncaught error or an unhandled
 * rejection stop every child it started (SIGTERM, SIGKILL after `graceMs`) before it exits with 130,
 * 143 or 1 and the reason on stderr. (A plain exit kills them too: killAtExit.)
 */
export function stopChildrenOnExit(graceMs = 3000): void {
  let stopping = false;
  const shutdown = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${why}\n`);
    await Promise.all(liveChildren().map((c) => c.stop('SIGTERM', graceMs)));
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130, 'interrupted; stopping child processes'));
  process.on('SIGTERM', () => void shutdown(143, 'terminated; stopping child processes'));
  process.on('uncaughtException', (err) => void shutdown(1, `failed: ${err?.stack ?? err}`));
  process.on('unhandledRejection', (err) => void shutdown(1, `failed: ${(err as Error)?.stack ?? err}`));
}

/**
 * For a tool's main module: runs `main` and exits with the code it resolves to; should it fail, the
 * error goes to stderr as `<name>: <message>` (`stack`: its stack) and the tool exits with `failCode`.
 * A bad option (OptionError, from CommandLine or the tool's own checks) is a usage error: its
 * message alone, and exit 2, whatever the tool.
 */
export function runToolMain(name: string, main: () => Promise<number>, { failCode = 1, stack = false }: { failCode?: number; stack?: boolean } = {}): void {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      const usage = err instanceof OptionError;
      process.stderr.write(`${name}: ${(!usage && stack && err?.stack) || err?.message || err}\n`);
      process.exit(usage ? 2 : failCode);
    },
  );
}
