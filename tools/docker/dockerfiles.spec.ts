/**
 * Static checks for the one Dockerfile (repository root) and the per-service build args
 * docker-bake.hcl gives it.
 *
 * The Dockerfile is read instruction by instruction (comments, blank lines and `\` continuations
 * handled) into stages. Checked: the runtime stage is node:24 based, runs as USER 1000, stops with
 * SIGTERM, starts node directly (exec-form CMD), has a HEALTHCHECK and EXPOSEs ${PORTS}; its
 * node_modules are installed from the bundle's generated manifest (dist/apps/${APP}/package.json),
 * not the workspace's; and it uses only what Debian 12's podman (4.3) builds: no `COPY --parents`
 * or other BuildKit-only flags, no heredocs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { BAKE_FILE, imageNodeArgs, parseBakeArgs } from './image-build-args';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');
const APPS = ['gateway', 'change-reader', 'batch-writer', 's3-uploader'];

interface Instruction {
  keyword: string; // upper-case, e.g. FROM, RUN
  args: string; // everything after the keyword, continuations joined
  line: number; // 1-based line of the keyword
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current: Instruction | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return; // also inside continuations
    const continues = /\\\s*$/.test(raw);
    const body = (continues ? raw.replace(/\\\s*$/, '') : raw).trim();
    if (current) current.args = `${current.args} ${body}`.trim();
    else {
      const m = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(body);
      if (!m) throw new Error(`line ${i + 1}: cannot parse "${raw}"`);
      current = { keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim(), line: i + 1 };
    }
    if (!continues) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

export function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ from: words[0] ?? '', name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** The instruction's own flags (`--from=…` before its arguments), names only. */
function leadingFlags(ins: Instruction): string[] {
  const flags: string[] = [];
  for (const word of ins.args.split(/\s+/)) {
    const m = /^--([a-z-]+)/.exec(word);
    if (!m) break;
    flags.push(m[1]);
  }
  return flags;
}

/** Flags Debian 12's podman 4.3 (buildah 1.28) builds, per instruction; anything else is refused. */
const PODMAN_FLAGS: Record<string, string[]> = {
  COPY: ['from', 'chown'],
  ADD: ['chown'],
  RUN: ['mount'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'retries'],
};

/** Returns the list of policy violations (empty = OK). */
export function checkDockerfile(text: string): string[] {
  const problems: string[] = [];
  if (/<<-?\s*["']?[A-Za-z_]+/.test(text.replace(/^\s*#.*$/gm, ''))) problems.push('heredocs are not built by podman 4.3');
  const stages = parseStages(text);
  if (stages.length < 2) return [...problems, `expected a multi-stage build, found ${stages.length} stage(s)`];

  for (const stage of stages) {
    for (const ins of stage.instructions) {
      const allowed = PODMAN_FLAGS[ins.keyword] ?? [];
      for (const flag of leadingFlags(ins)) {
        if (!allowed.includes(flag)) problems.push(`line ${ins.line}: ${ins.keyword} --${flag} is not built by podman 4.3`);
      }
    }
    // A stage that uses ${APP} must declare ARG APP (build args do not cross stages).
    const usesApp = stage.instructions.some((i) => i.keyword !== 'ARG' && /\$\{?APP\b/.test(i.args));
    if (usesApp && !stage.instructions.some((i) => i.keyword === 'ARG' && /^APP(=|$)/.test(i.args))) {
      problems.push(`stage ${stage.name ?? stage.from} uses $APP without ARG APP`);
    }
  }

  const runtime = stages[stages.length - 1];
  const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).pop()?.args.trim();
  if (!/^(docker\.io\/(library\/)?)?node:24([-.@]|$)/.test(runtime.from)) problems.push(`the runtime stage must be based on node:24, got "${runtime.from}"`);
  const user = last('USER');
  if (user !== '1000' && user !== '1000:1000') problems.push(`the runtime stage must run as USER 1000 (or 1000:1000), got ${user ?? 'no USER (root)'}`);
  if (last('STOPSIGNAL') !== 'SIGTERM') problems.push(`STOPSIGNAL must be SIGTERM, got ${last('STOPSIGNAL') ?? 'none'}`);

  const cmd = last('CMD');
  let argv: unknown;
  try {
    argv = cmd ? JSON.parse(cmd) : undefined;
  } catch {
    /* shell form */
  }
  if (!cmd) problems.push('the runtime stage has no CMD');
  else if (!Array.isArray(argv)) problems.push(`CMD must use the exec (JSON) form so node is PID 1 and receives signals, got: ${cmd}`);
  else if (argv[0] !== 'node' || !argv.includes('main.js') || runtime.instructions.some((i) => i.keyword === 'ENTRYPOINT')) {
    problems.push(`CMD must start node on main.js directly (not npm/sh), got ${cmd}`);
  }

  const healthcheck = last('HEALTHCHECK');
  if (!healthcheck || /^NONE$/i.test(healthcheck)) problems.push('the runtime stage must define a HEALTHCHECK');
  else if (!/CMD\s+\[/.test(healthcheck) || !healthcheck.includes('/health')) problems.push(`HEALTHCHECK must ask /health in exec form, got ${healthcheck}`);
  if (!runtime.instructions.some((i) => i.keyword === 'EXPOSE' && /\$\{?PORTS\}?/.test(i.args))) problems.push('the runtime stage must EXPOSE ${PORTS}');
  if (!runtime.instructions.some((i) => i.keyword === 'ENV' && /\bNODE_OPTIONS="?\$\{?NODE_OPTIONS\}?"?(\s|$)/.test(i.args))) problems.push('the runtime stage must set ENV NODE_OPTIONS from its build arg');

  // node_modules: installed from the bundle's manifest only, never the workspace's.
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
  const modules = copies.find((i) => /(^|[\s/])node_modules\/?(\s|$)/.test(i.args));
  const depsStage = stages.find((s) => s.name && modules?.args.includes(`--from=${s.name}`));
  if (!modules || !depsStage) problems.push('the runtime stage must COPY node_modules from a dependency stage');
  else {
    const manifestCopy = depsStage.instructions.some((i) => i.keyword === 'COPY' && /dist\/apps\/\$\{?APP\}?\/package\.json/.test(i.args));
    const install = depsStage.instructions.some((i) => i.keyword === 'RUN' && /npm (install|ci)\b.*--omit=dev/.test(i.args));
    // Every file the stage copies in is the bundle's manifest or lockfile, or .npmrc.
    const sources = depsStage.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1));
    const workspace = sources.some((src) => !/dist\/apps\/\$\{?APP\}?\/[^/]+$/.test(src) && !/(^|\/)\.npmrc$/.test(src));
    if (!manifestCopy || !install || workspace) {
      problems.push(`stage ${depsStage.name} must npm install --omit=dev from dist/apps/\${APP}/package.json alone, not the workspace`);
    }
  }
  if (copies.some((i) => !i.args.includes('--from='))) problems.push('the runtime stage copies from the build context: only from earlier stages');
  return problems;
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const text = readFileSync(DOCKERFILE, 'utf8');
const stages = parseStages(text);
const bake = parseBakeArgs(readFileSync(BAKE_FILE, 'utf8'));

function containerPorts(app: string): number[] {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'k8s', app, 'deployment.yaml'), 'utf8'));
  return (Array.isArray(docs) ? docs : [docs])
    .map((d) => d.toJS())
    .filter((d) => d?.kind === 'Deployment')
    .flatMap((d) => d.spec?.template?.spec?.containers ?? [])
    .filter((c: { name: string }) => c.name === app)
    .flatMap((c: { ports?: Array<{ containerPort: number }> }) => c.ports ?? [])
    .map((p: { containerPort: number }) => p.containerPort);
}

describe('Dockerfile (one for the four services)', () => {
  test('no per-service Dockerfiles remain', () => {
    expect(readdirSync(path.join(ROOT, 'apps')).filter((app) => existsSync(path.join(ROOT, 'apps', app, 'Dockerfile')))).toEqual([]);
  });

  test('satisfies the runtime image policy', () => {
    expect(checkDockerfile(text)).toEqual([]);
  });

  test('declares every build arg docker-bake.hcl passes, in the stages that use it', () => {
    const declared = new Set(stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0])));
    expect(Object.keys(bake).sort()).toEqual([...APPS].sort());
    for (const app of APPS) expect({ app, undeclared: Object.keys(bake[app]).filter((k) => !declared.has(k)) }).toEqual({ app, undeclared: [] });
  });

  test.each(APPS)("%s: APP names it, PORTS cover k8s/<app>/deployment.yaml's containerPorts and HEALTH_PORT is one of them", (app) => {
    const args = bake[app];
    expect(args.APP).toBe(app);
    const ports = args.PORTS.split(/\s+/).map(Number);
    const k8s = containerPorts(app);
    expect(k8s.length).toBeGreaterThan(0);
    expect(ports.sort()).toEqual([...new Set(k8s)].sort());
    expect(ports).toContain(Number(args.HEALTH_PORT));
    expect(args.NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);
    expect(imageNodeArgs(app).join(' ')).toBe(args.NODE_OPTIONS.trim().split(/\s+/).join(' ')); // what the benches run it with
  });

  test("the Dockerfile's ARG defaults are the pipeline services' values (a bare `docker build --build-arg APP=…` of one of them)", () => {
    const runtime = stages[stages.length - 1];
    const defaults = Object.fromEntries(
      runtime.instructions.filter((i) => i.keyword === 'ARG' && i.args.includes('=')).map((i) => [i.args.split('=')[0], i.args.slice(i.args.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')]),
    );
    for (const app of ['change-reader', 'batch-writer', 's3-uploader']) {
      const { APP: _app, ...args } = bake[app];
      expect({ app, args }).toEqual({ app, args: { NODE_OPTIONS: defaults.NODE_OPTIONS, PORTS: defaults.PORTS, HEALTH_PORT: defaults.HEALTH_PORT } });
    }
  });

  test('root .dockerignore keeps host artefacts out of the build context', () => {
    const file = path.join(ROOT, '.dockerignore');
    expect(existsSync(file)).toBe(true);
    const entries = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim().replace(/^\*\*\//, '').replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#'));
    expect(entries).toEqual(expect.arrayContaining(['node_modules', 'dist', '.nx', 'coverage', '.git', 'tmp', '.data']));
  });

  describe('parser and policy (self-test: the checks can fail)', () => {
    test('joins line continuations and skips comments', () => {
      const ins = parseInstructions('FROM node:24 AS a\n# c\nRUN echo 1 \\\n  # inner comment\n  && echo 2\nCMD ["node"]\n');
      expect(ins.map((i) => [i.keyword, i.args, i.line])).toEqual([
        ['FROM', 'node:24 AS a', 1],
        ['RUN', 'echo 1 && echo 2', 3],
        ['CMD', '["node"]', 6],
      ]);
    });

    const swap = (from: string | RegExp, to: string) => text.replace(from, to);
    test.each([
      { title: 'COPY --parents', file: swap('COPY --from=manifests /manifests/ ./', 'COPY --parents apps/*/package.json ./'), problem: /COPY --parents is not built by podman/ },
      { title: 'a heredoc', file: swap('RUN --mount=type=cache,target=/root/.npm,sharing=locked \\\n    npm install --no-audit', 'RUN <<EOF\nnpm install --no-audit\nEOF\nRUN npm install --no-audit'), problem: /heredocs/ },
      { title: 'node:22 runtime', file: swap('FROM node:24-bookworm-slim AS runtime', 'FROM node:22-bookworm-slim AS runtime'), problem: /node:24/ },
      { title: 'no USER', file: swap('USER 1000:1000', ''), problem: /USER 1000/ },
      { title: 'USER root last', file: `${text}\nUSER root\n`, problem: /USER 1000/ },
      { title: 'no STOPSIGNAL', file: swap('STOPSIGNAL SIGTERM', ''), problem: /STOPSIGNAL/ },
      { title: 'shell-form CMD', file: swap('CMD ["node", "main.js"]', 'CMD node main.js'), problem: /exec \(JSON\) form/ },
      { title: 'CMD via npm', file: swap('CMD ["node", "main.js"]', 'CMD ["npm", "start"]'), problem: /start node on main.js/ },
      { title: 'no HEALTHCHECK', file: text.replace(/^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, ''), problem: /HEALTHCHECK/ },
      { title: 'fixed EXPOSE', file: swap('EXPOSE ${PORTS}', 'EXPOSE 9090'), problem: /EXPOSE \$\{PORTS\}/ },
      { title: 'fixed NODE_OPTIONS', file: swap('NODE_OPTIONS="${NODE_OPTIONS}"', 'NODE_OPTIONS=--max-semi-space-size=8'), problem: /ENV NODE_OPTIONS from its build arg/ },
      { title: '${APP} without ARG APP', file: swap('FROM base AS prod-deps\nARG APP\n', 'FROM base AS prod-deps\n'), problem: /uses \$APP without ARG APP/ },
      { title: 'workspace node_modules', file: swap('COPY --from=build /app/.npmrc ./', 'COPY --from=manifests /manifests/ ./'), problem: /not the workspace/ },
      { title: 'runtime copy from the context', file: swap('WORKDIR /app\n# Files', 'WORKDIR /app\nCOPY . .\n# Files'), problem: /only from earlier stages/ },
    ])('rejects: $title', ({ file, problem }) => {
      expect(file).not.toBe(text);
      expect(checkDockerfile(file).join('\n')).toMatch(problem);
    });
  });
});
