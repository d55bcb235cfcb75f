/**
 * npm run chaos:snapshot -- [documents=100000] [seconds=60] [rate=200] [--seed=N]
 *
 * The issue 10 proof, long: the MongoDB stand-in seeded with `documents` documents of mixed `_id`
 * types (ObjectId, strings, int32, int64, double, Decimal128, dates, binData, booleans, compound
 * objects, timestamps, MinKey/MaxKey, null) before any reader starts; a new stream snapshots them
 * (SNAPSHOT_MODE=initial) while a writer inserts, updates and deletes at `rate` writes per second
 * (rate × seconds change events); the holder is killed -9 mid-snapshot and at the handoff, and for
 * `seconds` a random service is killed every 1–3 s, with one Redis restart and an S3 503 window.
 * Then: at most one snapshot row per document (none for one deleted before its chunk was read),
 * every change event once, the current state computed from the lake by DuckDB equal to the server's,
 * and untouched documents exactly as seeded.
 * Exit 0 only when nothing was lost, nothing duplicated and every check passed.
 */
import { CommandLine, OptionError, runToolMain, stopChildrenOnExit } from '@runnel/testing';
import { describeChaos, runPipelineChaos } from './pipeline-chaos';
import { snapshotChaosSource } from './snapshot-chaos-source';

async function main(): Promise<number> {
  const cl = new CommandLine(process.argv.slice(2), process.env, { values: ['seed'] });
  const [documents = 100_000, seconds = 60, rate = 200] = cl.positional.map(Number);
  const seed = Number(cl.option('seed') ?? Date.now() % 100_000);
  for (const [name, v] of Object.entries({ documents, seconds, rate, seed })) {
    if (!Number.isFinite(v) || v <= 0) throw new OptionError(`${name} must be a positive number, not ${v}`);
  }
  const events = Math.round(rate * seconds);
  const source = snapshotChaosSource({ documents, events, rate, seed, chunkSize: 1000 });

  process.stdout.write(`chaos: snapshot of ${documents} documents, ${events} change events at ${rate}/s, seed ${seed} (--seed=${seed} repeats the same kills and writes)\n`);
  const t0 = Date.now();
  const r = await runPipelineChaos({ events, durationMs: seconds * 1000, rate, seed, source, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`\n${describeChaos(r).join('\n')}\nin ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return r.lost === 0 && r.duplicated === 0 && r.sourceCheck.ok ? 0 : 1;
}

stopChildrenOnExit();
runToolMain('chaos:snapshot', main, { failCode: 2 });
