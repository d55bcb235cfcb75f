// The pipeline benchmark's main (usage and options: options.ts): the phases in order, then the report.
//   node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/pipeline/run.ts [options]
// The bundle also runs its own child processes: started again with --role=… (roles.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { machineFacts, REPO_ROOT, stopChildrenOnExit } from '@runnel/testing';
import { baselinePhase } from './baseline';
import { parseOptions } from './options';
import { buildServices, pipelinePhase } from './pipeline-run';
import { profilePhase, profileReport } from './profile';
import { log, report } from './report';
import { ownRole, runRole } from './roles';
import { sweepPhase } from './sweep';

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node 24 needed (zstd, as the services run); this is ${process.version}. Use node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/pipeline/run.ts`);
  if (process.cwd() !== REPO_ROOT) throw new Error('run from the repository root');
  const opts = parseOptions();
  const out = mkdtempSync(join(os.tmpdir(), 'runnel-pipeline-bench-'));
  const m = machineFacts();
  log(`machine: ${m.nproc} CPUs, ${m.cpuModel}, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}; results in ${out}`);
  if (opts.only.has('pipeline') || opts.only.has('profile')) buildServices(opts);

  const { baseline, baselineAttempts } = opts.only.has('baseline') ? await baselinePhase(opts) : { baseline: [], baselineAttempts: [] };
  const { pipeline, pipelineAttempts } = opts.only.has('pipeline') ? await pipelinePhase(opts) : { pipeline: [], pipelineAttempts: [] };
  const { text, targets } = report(opts, m, baseline, pipeline);
  const sweep = opts.only.has('sweep') ? await sweepPhase(opts) : undefined;
  const profiled = opts.only.has('profile') && opts.profile !== 'never' ? await profilePhase(opts, out, baseline, pipeline) : [];

  const results = { when: new Date().toISOString(), machine: m, options: { ...opts, only: [...opts.only] }, baseline, baselineAttempts, pipeline, pipelineAttempts, profiled, sweep: sweep?.rows, targets };
  const file = join(out, 'results.json');
  writeFileSync(file, JSON.stringify(results, null, 2));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  process.stdout.write(`${text}\n`);
  if (sweep) process.stdout.write(`${sweep.text}\n`);
  process.stdout.write(profileReport(profiled));
  process.stdout.write(`\nResults JSON: ${file}${opts.json ? ` and ${opts.json}` : ''}\n`);
}

const role = ownRole();
if (role) runRole(role);
else {
  stopChildrenOnExit();
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`\nbench failed: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
