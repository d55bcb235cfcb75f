/**
 * What must happen when this process exits, however it exits (normal end, process.exit, an uncaught
 * error): killing the processes a test or tool started, so that none outlives its run. 'exit'
 * handlers run synchronously, so each cleanup is a synchronous kill.
 */
const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // already gone
    }
  }
});

/** Runs `cleanup` when this process exits; call the returned function once it is no longer needed. */
export function atExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** SIGKILLs a process (by pid; a negative pid: its process group) when this process exits. */
export function killAtExit(pid: number | undefined): () => void {
  if (pid === undefined) return () => undefined;
  return atExit(() => process.kill(pid, 'SIGKILL'));
}
