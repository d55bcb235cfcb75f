/**
 * npm run chaos:pipeline -- [events=200000] [seconds=120] [rate=2000]
 *
 * The long chaos run: the three built services, a real redis-server and s3rver; a random service
 * killed with SIGKILL every 1–3 s, one Redis restart and an S3 503 window; then the lake is read back.
 * Exit 0 only when nothing was lost and nothing duplicated.
 */
import { runPipelineChaos } from './pipeline-chaos';

const [events = 200_000, seconds = 120, rate = 2000] = process.argv.slice(2).map(Number);

runPipelineChaos({ events, durationMs: seconds * 1000, rate, seed: Date.now() % 100_000, log: (l) => process.stdout.write(`${l}\n`) }).then(
  (r) => {
    process.stdout.write(
      `\nkills: ${JSON.stringify(r.kills)}; redis restarts: ${r.redisRestarts}; S3 requests failed on purpose: ${r.s3FailedRequests}\n` +
        `lake: ${r.report.objects} objects, ${r.report.events} events of ${events}; lost ${r.lost}; duplicated ${r.duplicated}\n` +
        `redis: ${r.leftoverBodies} batch/object bodies left over (expire after 7 days)\n`,
    );
    process.exit(r.lost === 0 && r.duplicated === 0 ? 0 : 1);
  },
  (err: Error) => {
    process.stderr.write(`chaos:pipeline failed: ${err.message}\n`);
    process.exit(2);
  },
);
