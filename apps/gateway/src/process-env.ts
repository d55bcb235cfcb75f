/**
 * Makes `process.env` a plain object holding the environment as it is now (once the config is read).
 *
 * Why: LangChain and LangSmith read environment variables on every call (tracing switches, the
 * LangSmith project and endpoint, callback settings: a dozen lookups per invoke, more per streamed
 * chunk), and each `process.env` read is a call into Node's C++ environment interceptor. As plain
 * properties they cost next to nothing: the gateway's CPU per request on a RunnableLambda fell by
 * ~9% on invoke and ~10% on stream (docs/benchmarks.md, issue 9).
 *
 * What changes: writes to `process.env` after this reach `process.env` readers and child
 * processes spawned without an `env` option (Node passes the object along), but no longer the
 * C-level environment of this process: native code calling getenv() keeps the values from before,
 * and assigning `process.env.TZ` no longer changes the time zone. Values assigned are kept as given
 * (not turned into strings). Nothing in the gateway writes its environment after start-up.
 */
export function snapshotProcessEnv(): void {
  process.env = { ...process.env };
}
