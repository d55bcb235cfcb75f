import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { f0, PIPELINE_SERVICES as SERVICES, REPO_ROOT } from '@runnel/testing';
import { formatProfileSummary, summariseProfile } from '../gateway/profile-summary';
import type { BaselineResult } from './baseline';
import type { Options } from './options';
import { type PipelineResult, pipelineOnce, type Variant, variantsOf } from './pipeline-run';
import { log, snapshotRatios, TARGETS } from './report';

/**
 * The profile phase: the configs below their target (or all with --profile) run once more with
 * --cpu-prof on the three services (profiles under `out`), each profile summarised.
 */
export async function profilePhase(opts: Options, out: string, baseline: BaselineResult[], pipeline: PipelineResult[]): Promise<PipelineResult[]> {
  const profiled: PipelineResult[] = [];
  const ref = baseline.find((b) => b.jobSize === 1000 && !b.generated);
  const below = snapshotRatios(pipeline).filter((r) => !(r.ratio >= 1));
  const want: { config: string; variant: Variant }[] = [];
  for (const config of opts.configs) {
    for (const variant of variantsOf(opts, opts.profileSources, '--profile-sources')) {
      if (opts.profile !== 'always') {
        if (variant.source === 'synthetic') {
          const p = pipeline.find((x) => x.config === config && x.variant.source === 'synthetic');
          if (!(p !== undefined && ref !== undefined && TARGETS[config] !== undefined && p.eventsPerSec / ref.eventsPerSec < TARGETS[config])) continue;
        } else {
          // The stand-in pair, for where the snapshot's time goes next to streaming's.
          const slow = below.filter((r) => r.config === config);
          if (!slow.length || (variant.source === 'standin-snapshot' && !slow.some((r) => r.label === variant.label))) continue;
        }
      }
      want.push({ config, variant });
    }
  }
  for (const { config, variant } of want) {
    const name = variant.label ? `${config} ${variant.label}` : config;
    const dir = join(out, `profile-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    for (const s of SERVICES) mkdirSync(join(dir, s), { recursive: true });
    log(`profile: ${name} again with --cpu-prof on the three services ...`);
    const r = await pipelineOnce(opts, config, { profileDir: dir, variant });
    r.profiles = { ...(r.profiles as object), summaries: summariseProfiles(r) };
    profiled.push(r);
  }
  return profiled;
}

/** The profiled runs' summaries, as printed after the report. */
export function profileReport(profiled: PipelineResult[]): string {
  let text = '';
  for (const p of profiled) {
    text += `\nProfiled run of ${p.name} (under --cpu-prof): ${f0(p.eventsPerSec)} events/s; CPU µs/event: ${Object.entries(p.cpuUsPerEvent).map(([k, v]) => `${k} ${f0(v)}`).join(', ')}\n`;
    const sums = (p.profiles as { summaries: Record<string, { text?: string; error?: string }> }).summaries;
    for (const s of SERVICES) text += `\n[${s}]\n${sums[s]?.text ?? sums[s]?.error ?? ''}\n`;
  }
  return text;
}

/** Each service's CPU profile of a --cpu-prof run, summarised over the measured window (tools/bench/gateway/profile-summary.ts). */
function summariseProfiles(result: PipelineResult): Record<string, unknown> {
  const p = result.profiles as { dir: string; monoStartUs: number; monoDoneUs: number };
  const out: Record<string, unknown> = {};
  for (const svc of SERVICES) {
    const dir = join(p.dir, svc);
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (!file) {
      out[svc] = { error: `no .cpuprofile in ${dir}` };
      continue;
    }
    const path = join(dir, file);
    try {
      const { startTime } = JSON.parse(readFileSync(path, 'utf8')) as { startTime: number };
      // V8 profile timestamps and process.hrtime are both CLOCK_MONOTONIC microseconds; the window in whole ms.
      const window = { fromMs: Math.round(Math.max(0, (p.monoStartUs - startTime) / 1000)), toMs: Math.round((p.monoDoneUs - startTime) / 1000) };
      const summary = summariseProfile(path, { top: 20, repoRoot: REPO_ROOT, window });
      out[svc] = { file: path, summary, text: `${formatProfileSummary(summary)}\n` };
    } catch (err) {
      out[svc] = { error: (err as Error).stack ?? String(err) };
    }
  }
  return out;
}
