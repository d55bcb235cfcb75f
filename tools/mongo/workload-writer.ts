/**
 * The workload (tools/mongo/workload.ts) from the command line, through the real driver:
 *
 *   node tools/dev/run-ts.mjs tools/mongo/workload-writer.ts --uri 'mongodb://127.0.0.1:27017/?replicaSet=rs0' \
 *     [--database shop] [--collections orders,customers,products] [--rate 20] [--count 0] [--seed 1] [--oversize]
 *
 * Runs until --count change events are written (0: until SIGINT/SIGTERM), then prints what it did.
 * `npm start` runs it against the local stand-in. Exit 0 when stopped or done, 1 on a failed write.
 */
import { CommandLine, OptionError, runToolMain } from '@runnel/testing';
import { describeWorkload, runWorkload } from './workload';

async function main(): Promise<number> {
  const cl = new CommandLine(process.argv.slice(2), process.env, { values: ['uri', 'database', 'collections', 'rate', 'count', 'seed'], flags: ['oversize'] });
  const uri = cl.option('uri', 'MONGODB_URI');
  if (!uri) throw new OptionError('--uri (or MONGODB_URI) is required');
  const ac = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => ac.abort());
  const database = cl.option('database', undefined, 'shop');
  const collections = cl.list('collections', undefined, 'orders,customers,products');
  const rate = Number(cl.option('rate', undefined, '20'));
  const count = Number(cl.option('count', undefined, '0'));
  const seed = Number(cl.option('seed', undefined, '1'));
  for (const [name, v] of Object.entries({ rate, count, seed })) {
    if (!Number.isFinite(v) || v < 0) throw new OptionError(`--${name} must be a number ≥ 0`);
  }
  process.stdout.write(`workload-writer: writing to ${database}.{${collections.join(',')}} at ${rate || 'full speed'} events/s${count ? `, ${count} events` : ''} (seed ${seed})\n`);
  const r = await runWorkload({ uri, database, collections, rate, count, seed, oversizeEvent: cl.has('oversize'), signal: ac.signal });
  process.stdout.write(`workload-writer: ${describeWorkload(r)}\n`);
  return 0;
}

runToolMain('workload-writer', main);
