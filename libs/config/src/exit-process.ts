/**
 * Ends the process with `code` the way Node ends when nothing is left to do, so that V8's background
 * threads finish their work first.
 *
 * Why not process.exit(): it joins V8's worker threads without running the main thread's pending
 * tasks. A worker that has just asked the main thread for a garbage collection (busy at start-up:
 * background compilation) then waits for ever, and the process hangs in exit instead of ending — seen
 * on Node 24.21 in about 1 start in 5 of a service refusing its configuration (gdb: MainThread in
 * NodePlatform::Shutdown → uv_thread_join; V8Worker in CollectionBarrier::AwaitCollectionBackground).
 * An event loop that empties by itself drains those tasks before the platform shuts down.
 *
 * So the exit code is set and the loop is left to empty; should anything still hold it after
 * `graceMs`, process.exit() ends it anyway (an unref'd timer: it never keeps the process alive).
 */
export function exitProcess(code: number, graceMs = 2_000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), graceMs).unref();
}
