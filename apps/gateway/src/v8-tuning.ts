import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for the standalone gateway, first thing at start-up.
 *
 * Why: when V8's first scavenges under load find most objects from an allocation site still alive
 * (the process has just started and many requests are in flight), it marks the site "tenured" and
 * from then on allocates its objects straight into the old generation, for the life of the process.
 * For node:http's IncomingMessage and ServerResponse, their headers and the gateway's per-request
 * closures, that meant every request's garbage waited for a Mark-Compact: V8's helper threads at
 * 13–17 µs per request against 1.6–2.9 otherwise, in 5 of 9 benchmark runs, depending on timing
 * (docs/benchmarks.md, issue 9). A request's objects die young, so never pretenuring is the right
 * bet here. With it, the lambda benchmark's invoke ran at 0.86–0.90× of a bare node:http server by
 * req/s and 0.83–0.89× by CPU per request (0.49–1.02× by CPU before).
 *
 * Set here rather than in NODE_OPTIONS, which does not accept this V8 flag (node exits 9). V8 reads
 * it at each scavenge, so setting it at run time takes effect. Only the standalone gateway does
 * this: an app that embeds the gateway (addRoutes) owns its process's flags and can pass
 * `--no-allocation-site-pretenuring` to node itself.
 */
export function disablePretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
