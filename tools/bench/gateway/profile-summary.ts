// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, and time per
// package/area. Functions in a bundle with a source map (the gateway's dist/apps/gateway/main.js.map)
// are reported at their original source location.
//
// Imported by the gateway bench's profile phase (scenarios/profile.ts) and the pipeline bench's
// (tools/bench/pipeline/profile.ts).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { f1 } from '@runnel/testing';

const META = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

export interface CallFrame {
  functionName: string;
  url?: string;
  lineNumber: number;
  columnNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
/** A V8 .cpuprofile (node --cpu-prof). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface SourceMap {
  sources: string[];
  /** Per generated line: [generated column] or [generated column, source, original line, original column]. */
  lines: number[][][];
}
type SourceMaps = Map<string, SourceMap | undefined>;
interface Location {
  where: string;
  area: string;
}

export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}
export interface FunctionRow {
  name: string;
  where: string;
  area: string;
  ms: number;
  pctOfBusy: number;
}
export interface FunctionTimes {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  totalMs: number;
}
export interface ProfileSummary {
  file: string;
  wallMs: number;
  sampledMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  programMs: number;
  samples: number;
  window: ProfileWindow | null;
  topSelf: FunctionRow[];
  topTotal: FunctionRow[];
  areas: { area: string; ms: number; pctOfBusy: number }[];
  /** With `all`: every function with its self and inclusive ms, for compareProfiles. */
  functions?: FunctionTimes[];
}

export function summariseProfile(file: string, { top = 25, repoRoot = process.cwd(), window, all = false }: { top?: number; repoRoot?: string; window?: ProfileWindow; all?: boolean } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const maps: SourceMaps = new Map();
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }

  // Time per sample: timeDeltas[i] is the time before sample i; attribute each sample the delta that follows it.
  // `window` ({fromMs, toMs}, relative to the profile's start) keeps only the samples in that span, e.g.
  // the measured load run, leaving out start-up and warm-up.
  const { samples, timeDeltas } = profile;
  const fromUs = (window?.fromMs ?? 0) * 1000;
  const toUs = (window?.toMs ?? Infinity) * 1000;
  const totalUs = Math.min(profile.endTime - profile.startTime, toUs) - fromUs;
  const sampleUs = new Float64Array(samples.length);
  let at = 0;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    sampleUs[i] = at >= fromUs && at <= toUs ? Math.max(0, timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) : 0;
  }

  const keyOf = new Map<number, string>();
  const info = new Map<string, { name: string; where: string; area: string; self: number; total: number }>();
  const keyFor = (node: ProfileNode) => {
    let k = keyOf.get(node.id);
    if (k) return k;
    const cf = node.callFrame;
    const loc = locate(cf, maps, repoRoot);
    const name = cf.functionName || '(anonymous)';
    k = `${name} ${loc.where}`;
    keyOf.set(node.id, k);
    if (!info.has(k)) info.set(k, { name, where: loc.where, area: loc.area, self: 0, total: 0 });
    return k;
  };

  const areas = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let program = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = sampleUs[i];
    if (us === 0) continue;
    const node = byId.get(samples[i])!;
    const k = keyFor(node);
    const entry = info.get(k)!;
    entry.self += us;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') idle += us;
    else if (fn === '(garbage collector)') gc += us;
    else if (fn === '(program)') program += us;
    areas.set(entry.area, (areas.get(entry.area) ?? 0) + us);
    // inclusive: every distinct function on the stack
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const kk = keyFor(byId.get(id)!);
      if (seen.has(kk)) continue;
      seen.add(kk);
      info.get(kk)!.total += us;
    }
  }
  const sampled = Array.from(sampleUs).reduce((a, b) => a + b, 0);
  const busy = sampled - idle;
  const fns = [...info.values()].filter((f) => !META.has(f.name));
  const pct = (us: number) => (busy > 0 ? (100 * us) / busy : 0);
  const row = (f: { name: string; where: string; area: string; self: number; total: number }, field: 'self' | 'total'): FunctionRow => ({ name: f.name, where: f.where, area: f.area, ms: f[field] / 1000, pctOfBusy: pct(f[field]) });
  return {
    file,
    wallMs: totalUs / 1000,
    sampledMs: sampled / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    programMs: program / 1000,
    samples: sampleUs.filter((us) => us > 0).length,
    window: window ?? null,
    topSelf: fns.sort((a, b) => b.self - a.self).slice(0, top).map((f) => row(f, 'self')),
    topTotal: fns
      .filter((f) => f.total > 0)
      .sort((a, b) => b.total - a.total)
      .slice(0, top)
      .map((f) => row(f, 'total')),
    areas: [...areas.entries()]
      .filter(([a]) => a !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: us / 1000, pctOfBusy: pct(us) })),
    // every function with its self and inclusive ms, for compareProfiles
    ...(all ? { functions: fns.filter((f) => f.total > 0).map((f) => ({ name: f.name, where: f.where, area: f.area, selfMs: f.self / 1000, totalMs: f.total / 1000 })) } : {}),
  };
}

/**
 * What a server does that its control does not, per request: `a` and `b` are summaries made with
 * `{all: true}`, `requestsA`/`requestsB` the requests completed in their windows. Functions are matched
 * by name and location, so a function of the server's own code (or a library path only it takes) has
 * no counterpart; node internals and shared libraries are matched and compared by µs per request.
 */
export function compareProfiles(a: ProfileSummary & { functions: FunctionTimes[] }, b: ProfileSummary & { functions: FunctionTimes[] }, { requestsA, requestsB, top = 15 }: { requestsA: number; requestsB: number; top?: number }) {
  const key = (f: FunctionTimes) => `${f.name} ${f.where}`;
  const inB = new Map(b.functions.map((f) => [key(f), f]));
  const perReq = (ms: number, n: number) => (ms * 1000) / n;
  const rows = a.functions.map((f) => {
    const g = inB.get(key(f));
    return {
      name: f.name,
      where: f.where,
      area: f.area,
      onlyInA: !g,
      selfUs: perReq(f.selfMs, requestsA),
      totalUs: perReq(f.totalMs, requestsA),
      selfUsB: g ? perReq(g.selfMs, requestsB) : 0,
      totalUsB: g ? perReq(g.totalMs, requestsB) : 0,
    };
  });
  const only = rows.filter((r) => r.onlyInA);
  return {
    busyUsPerReq: { a: perReq(a.busyMs, requestsA), b: perReq(b.busyMs, requestsB) },
    gcUsPerReq: { a: perReq(a.gcMs, requestsA), b: perReq(b.gcMs, requestsB) },
    onlyInASelf: [...only].sort((x, y) => y.selfUs - x.selfUs).slice(0, top),
    onlyInATotal: [...only].sort((x, y) => y.totalUs - x.totalUs).slice(0, top),
    moreSelfInA: rows
      .filter((r) => !r.onlyInA)
      .map((r) => ({ ...r, extraSelfUs: r.selfUs - r.selfUsB }))
      .sort((x, y) => y.extraSelfUs - x.extraSelfUs)
      .slice(0, top),
  };
}

export type ProfileComparison = ReturnType<typeof compareProfiles>;

export function formatComparison(c: ProfileComparison, { label = '', labelB = 'control' } = {}): string {
  const lines: string[] = [];
  lines.push(
    `Profile comparison ${label}: busy ${f1(c.busyUsPerReq.a)} vs ${f1(c.busyUsPerReq.b)} us/request (${labelB}), GC ${f1(c.gcUsPerReq.a)} vs ${f1(c.gcUsPerReq.b)} us/request`,
  );
  lines.push(`  Only in ${label} (not in ${labelB}), top self, us/request:`);
  for (const r of c.onlyInASelf) lines.push(`    ${f1(r.selfUs).padStart(6)} us  ${r.name}  ${r.where}`);
  lines.push(`  Only in ${label}, top inclusive, us/request:`);
  for (const r of c.onlyInATotal) lines.push(`    ${f1(r.totalUs).padStart(6)} us  ${r.name}  ${r.where}`);
  lines.push(`  In both, most extra self time in ${label}, us/request (${label} vs ${labelB}):`);
  for (const r of c.moreSelfInA) lines.push(`    +${f1(r.extraSelfUs).padStart(5)} us  (${f1(r.selfUs)} vs ${f1(r.selfUsB)})  ${r.name}  ${r.where}`);
  return lines.join('\n');
}

function locate(cf: CallFrame, maps: SourceMaps, repoRoot: string): Location {
  const url = cf.url ?? '';
  if (!url) {
    const meta = META.has(cf.functionName) ? cf.functionName : '(native)';
    return { where: '', area: meta === '(native)' ? '(native / V8 builtins)' : meta };
  }
  if (url.startsWith('node:')) {
    const m = /^node:(internal\/)?([^/]+)/.exec(url);
    return { where: `${url}:${cf.lineNumber + 1}`, area: `node:${m ? (m[1] ?? '') + m[2] : url}` };
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length);
    const parts = rest.split('/');
    const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const inPkg = rest.slice(pkg.length + 1);
    return { where: `${pkg}/${inPkg}:${cf.lineNumber + 1}`, area: pkg };
  }
  const mapped = mapThroughSourceMap(path, cf.lineNumber, cf.columnNumber, maps);
  if (mapped) {
    const rel = mapped.source.startsWith(repoRoot) ? mapped.source.slice(repoRoot.length + 1) : mapped.source;
    const area = rel.startsWith('apps/') || rel.startsWith('libs/') ? rel.split('/').slice(0, 2).join('/') : rel;
    return { where: `${rel}:${mapped.line + 1}`, area };
  }
  const rel = path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1) : basename(path);
  return { where: `${rel}:${cf.lineNumber + 1}`, area: rel };
}

// --- minimal source map (v3) lookup -----------------------------------------------------------------

function mapThroughSourceMap(path: string, line: number, column: number, maps: SourceMaps): { source: string; line: number } | undefined {
  if (!maps.has(path)) maps.set(path, loadMap(path));
  const map = maps.get(path);
  if (!map) return undefined;
  const segs = map.lines[line];
  if (!segs || segs.length === 0) return undefined;
  // last segment starting at or before `column`
  let lo = 0;
  let hi = segs.length - 1;
  let best = segs[0];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid][0] <= column) {
      best = segs[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best.length < 4) return undefined;
  return { source: map.sources[best[1]], line: best[2] };
}

function loadMap(path: string): SourceMap | undefined {
  const file = `${path}.map`;
  if (!existsSync(file)) return undefined;
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    const root = resolve(dirname(file), raw.sourceRoot ?? '');
    const sources = (raw.sources as string[]).map((s) => resolve(root, s));
    return { sources, lines: decodeMappings(raw.mappings) };
  } catch {
    return undefined;
  }
}

const B64 = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));

function decodeMappings(mappings: string): number[][][] {
  const lines: number[][][] = [];
  let src = 0;
  let origLine = 0;
  let origCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    if (lineText) {
      for (const segText of lineText.split(',')) {
        if (!segText) continue;
        const v = decodeVlq(segText);
        genCol += v[0];
        if (v.length >= 4) {
          src += v[1];
          origLine += v[2];
          origCol += v[3];
          // (v[4], the name index, is not needed)
          segs.push([genCol, src, origLine, origCol]);
        } else segs.push([genCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

function decodeVlq(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = B64.get(ch)!;
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

// --- text output -----------------------------------------------------------------------------------

export function formatProfileSummary(s: ProfileSummary, { label = '' } = {}): string {
  const lines: string[] = [];
  const span = s.window ? `, samples from ${(s.window.fromMs / 1000).toFixed(1)} s to ${(s.window.toMs / 1000).toFixed(1)} s after start` : '';
  lines.push(`CPU profile ${label}${label ? ' ' : ''}(${s.file}${span})`);
  lines.push(
    `  wall ${f1(s.wallMs)} ms, busy ${f1(s.busyMs)} ms (${f1((100 * s.busyMs) / (s.sampledMs || 1))}% of samples), ` +
      `GC ${f1(s.gcMs)} ms (${f1((100 * s.gcMs) / (s.busyMs || 1))}% of busy), (program) ${f1(s.programMs)} ms`,
  );
  lines.push('  Busy time by area:');
  for (const a of s.areas.slice(0, 15)) lines.push(`    ${f1(a.pctOfBusy).padStart(5)}%  ${f1(a.ms).padStart(9)} ms  ${a.area}`);
  lines.push('  Top self time:');
  for (const f of s.topSelf) lines.push(`    ${f1(f.pctOfBusy).padStart(5)}%  ${f1(f.ms).padStart(9)} ms  ${f.name}  ${f.where}`);
  lines.push('  Top inclusive time:');
  for (const f of s.topTotal) lines.push(`    ${f1(f.pctOfBusy).padStart(5)}%  ${f1(f.ms).padStart(9)} ms  ${f.name}  ${f.where}`);
  return lines.join('\n');
}
