/**
 * npm run chaos:pipeline -- [events=200000] [seconds=120] [rate=2000] [--source=synthetic|standin] [--seed=N]
 *
 * The long chaos run: the three built services, a real redis-server and s3rver; a random service
 * killed with SIGKILL every 1–3 s, one Redis restart and an S3 503 window; then the lake is read back.
 * --source=standin reads the MongoDB stand-in through the real driver instead of the synthetic
 * source: a workload writer changes documents meanwhile (events = its change events, rate = its
 * writes per second; keep the rate to a few hundred), with a forced 286, a lease takeover between two
 * reader replicas and one event above 16 MiB (--no-oversize leaves it out), and at the end the
 * collections rebuilt from the lake must equal the stand-in's.
 * Exit 0 only when nothing was lost, nothing duplicated and the source's checks passed.
 */
import { CommandLine, OptionError, runToolMain, stopChildrenOnExit } from '@runnel/testing';
import { describeChaos, runPipelineChaos } from './pipeline-chaos';
import { standInChaosSource } from './standin-chaos-source';

async function main(): Promise<number> {
  const cl = new CommandLine(process.argv.slice(2), process.env, { values: ['source', 'seed'], flags: ['no-oversize'] });
  const sourceName = cl.option('source', undefined, 'synthetic');
  const [events = 200_000, seconds = 120, rate = 2000] = cl.positional.map(Number);
  const seed = Number(cl.option('seed') ?? Date.now() % 100_000);
  if (!['synthetic', 'standin'].includes(sourceName)) throw new OptionError(`--source must be synthetic or standin, not ${sourceName}`);
  const source = sourceName === 'standin' ? standInChaosSource({ events, rate, seed, oversizeEvent: !cl.has('no-oversize') }) : undefined;

  process.stdout.write(`chaos: source ${sourceName}, seed ${seed} (--seed=${seed} repeats the same kills and writes)\n`);
  const r = await runPipelineChaos({ events, durationMs: seconds * 1000, rate, seed, source, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`\n${describeChaos(r).join('\n')}\n`);
  return r.lost === 0 && r.duplicated === 0 && r.sourceCheck.ok ? 0 : 1;
}

stopChildrenOnExit();
runToolMain('chaos:pipeline', main, { failCode: 2 });
