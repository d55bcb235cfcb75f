/**
 * The workload (tools/mongo/workload.ts) from the command line, through the real driver:
 *
 *   node tools/dev/run-ts.mjs tools/mongo/workload-writer.ts --uri 'mongodb://127.0.0.1:27017/?replicaSet=rs0' \
 *     [--database shop] [--collections orders,customers,products] [--rate 20] [--count 0] [--seed 1] [--oversize]
 *
 * Runs until --count change events are written (0: until SIGINT/SIGTERM), then prints what it did.
 * `npm start` runs it against the local stand-in. Exit 0 when stopped or done, 1 on a failed write.
 */
import { describeWorkload, runWorkload } from './workload';

function argValue(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
}

async function main(args: string[]): Promise<number> {
  const uri = argValue(args, 'uri') ?? process.env.MONGODB_URI;
  if (!uri) {
    process.stderr.write('workload-writer: --uri (or MONGODB_URI) is required\n');
    return 2;
  }
  const ac = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => ac.abort());
  const database = argValue(args, 'database') ?? 'shop';
  const collections = (argValue(args, 'collections') ?? 'orders,customers,products').split(',').filter(Boolean);
  const rate = Number(argValue(args, 'rate') ?? 20);
  const count = Number(argValue(args, 'count') ?? 0);
  const seed = Number(argValue(args, 'seed') ?? 1);
  for (const [name, v] of Object.entries({ rate, count, seed })) {
    if (!Number.isFinite(v) || v < 0) {
      process.stderr.write(`workload-writer: --${name} must be a number ≥ 0\n`);
      return 2;
    }
  }
  process.stdout.write(`workload-writer: writing to ${database}.{${collections.join(',')}} at ${rate || 'full speed'} events/s${count ? `, ${count} events` : ''} (seed ${seed})\n`);
  const r = await runWorkload({ uri, database, collections, rate, count, seed, oversizeEvent: args.includes('--oversize'), signal: ac.signal });
  process.stdout.write(`workload-writer: ${describeWorkload(r)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`workload-writer: ${err.message}\n`);
    process.exit(1);
  },
);
