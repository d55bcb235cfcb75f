/**
 * Static checks for every apps/<app>/Dockerfile.
 *
 * The Dockerfile is parsed line by line (comments, blank lines and `\` line
 * continuations handled; heredocs are not supported) into stages, and the
 * final (runtime) stage is checked for: a node:24 base, a non-root numeric
 * USER 1000, STOPSIGNAL SIGTERM, an exec-form CMD running
 * dist/apps/<app>/main.js, EXPOSE of the service ports and a HEALTHCHECK.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '..', '..');

interface Instruction {
  keyword: string; // upper-case, e.g. FROM, RUN
  args: string; // everything after the keyword, continuations joined
  line: number; // 1-based line of the keyword
}

interface Stage {
  image: string; // FROM image (with global ARGs substituted)
  name?: string; // AS <name>
  instructions: Instruction[]; // excluding the FROM itself
}

interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

export function parseInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let current: Instruction | undefined;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    // Comments and blank lines are skipped, also inside continuations.
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    const continues = /\\\s*$/.test(raw);
    const body = continues ? raw.replace(/\\\s*$/, '') : raw;

    if (current) {
      current.args = `${current.args} ${body.trim()}`.trim();
    } else {
      const m = /^\s*([A-Za-z]+)(?:\s+(.*))?$/.exec(body);
      if (!m) throw new Error(`line ${i + 1}: cannot parse "${raw}"`);
      current = { keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim(), line: i + 1 };
    }
    if (!continues) {
      out.push(current);
      current = undefined;
    }
  }
  if (current) out.push(current);
  return out;
}

function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, def, b) => {
    const name = a ?? b;
    return vars[name] ?? def ?? '';
  });
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      // FROM [--platform=<p>] <image> [AS <name>]
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = substitute(words[0] ?? '', globalArgs);
      const name = words.length >= 3 && words[1].toUpperCase() === 'AS' ? words[2] : undefined;
      stages.push({ image, name, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, ...rest] = ins.args.split('=');
        globalArgs[name.trim()] = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
      }
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The stage plus the stages it is built FROM (closest first). */
function stageChain(df: Dockerfile, index: number): Stage[] {
  const chain: Stage[] = [];
  let stage: Stage | undefined = df.stages[index];
  let limit = index;
  while (stage) {
    chain.push(stage);
    const parentIndex: number = df.stages.slice(0, limit).findIndex((s) => s.name === stage!.image);
    stage = parentIndex >= 0 ? df.stages[parentIndex] : undefined;
    limit = parentIndex;
  }
  return chain;
}

/** Last instruction of a keyword in the final stage, following FROM <stage>. */
function lastInFinalStage(df: Dockerfile, keyword: string): Instruction | undefined {
  for (const stage of stageChain(df, df.stages.length - 1)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).pop();
    if (found) return found;
  }
  return undefined;
}

function allInFinalStage(df: Dockerfile, keyword: string): Instruction[] {
  return stageChain(df, df.stages.length - 1).flatMap((s) => s.instructions.filter((i) => i.keyword === keyword));
}

function envOfFinalStage(df: Dockerfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const stage of stageChain(df, df.stages.length - 1).reverse()) {
    for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
      for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
        env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
      }
    }
  }
  return env;
}

function baseImageOfFinalStage(df: Dockerfile): string {
  const chain = stageChain(df, df.stages.length - 1);
  return chain[chain.length - 1].image;
}

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

/**
 * Ports each app must EXPOSE (in addition to every *PORT ENV of the final stage). The pipeline
 * services serve no traffic: their only port is the ops port (METRICS_PORT).
 */
const EXPECTED_PORTS: Record<string, number[]> = {
  gateway: [8080, 9090],
  'change-reader': [9090],
  'batch-writer': [9090],
  's3-uploader': [9090],
};

/** Returns the list of policy violations (empty = OK). */
export function checkDockerfile(text: string, app: string): string[] {
  const problems: string[] = [];
  const df = parseDockerfile(text);

  if (df.stages.length < 2) problems.push(`expected a multi-stage build (>= 2 FROM), found ${df.stages.length}`);
  if (df.stages.length === 0) return problems;

  const base = baseImageOfFinalStage(df);
  if (!/^(docker\.io\/(library\/)?)?node:24([-.@]|$)/.test(base)) {
    problems.push(`final stage must be based on a node:24 image, got "${base}"`);
  }

  const user = lastInFinalStage(df, 'USER')?.args.trim();
  if (user !== '1000' && user !== '1000:1000') {
    problems.push(`final stage must run as USER 1000 (or 1000:1000), got ${user ?? 'no USER (root)'}`);
  }

  const stopSignal = lastInFinalStage(df, 'STOPSIGNAL')?.args.trim();
  if (stopSignal !== 'SIGTERM') problems.push(`STOPSIGNAL must be SIGTERM, got ${stopSignal ?? 'none'}`);

  const cmd = lastInFinalStage(df, 'CMD')?.args.trim();
  const entrypoint = lastInFinalStage(df, 'ENTRYPOINT');
  const script = `dist/apps/${app}/main.js`;
  if (!cmd) {
    problems.push('final stage has no CMD');
  } else if (!cmd.startsWith('[')) {
    problems.push(`CMD must use the exec (JSON) form so node is PID 1 and receives signals, got: ${cmd}`);
  } else {
    let argv: unknown;
    try {
      argv = JSON.parse(cmd);
    } catch {
      problems.push(`CMD is not valid JSON: ${cmd}`);
    }
    if (Array.isArray(argv) && !argv.includes(script) && !argv.includes(`./${script}`)) {
      problems.push(`CMD must run ${script}, got ${cmd}`);
    }
    if (Array.isArray(argv) && !entrypoint && argv[0] !== 'node') {
      problems.push(`CMD must start node directly (not npm/sh), got ${argv[0]}`);
    }
  }

  const exposed = new Set(
    allInFinalStage(df, 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => Number.parseInt(substitute(p, envOfFinalStage(df)), 10)),
  );
  const env = envOfFinalStage(df);
  const envPorts = Object.entries(env)
    .filter(([k]) => /(^|_)PORT$/.test(k))
    .map(([, v]) => Number.parseInt(v, 10));
  const expected = [...new Set([...(EXPECTED_PORTS[app] ?? []), ...envPorts])];
  if (expected.length === 0 && exposed.size === 0) problems.push('final stage EXPOSEs no ports');
  for (const port of expected) {
    if (!exposed.has(port)) problems.push(`port ${port} is not EXPOSEd`);
  }

  const healthcheck = lastInFinalStage(df, 'HEALTHCHECK')?.args.trim();
  if (!healthcheck || /^NONE$/i.test(healthcheck)) problems.push('final stage must define a HEALTHCHECK');

  return problems;
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const appsDir = path.join(ROOT, 'apps');
const dockerfiles = (existsSync(appsDir) ? readdirSync(appsDir) : [])
  .filter((app) => existsSync(path.join(appsDir, app, 'Dockerfile')))
  .sort()
  .map((app) => ({ app, file: path.join(appsDir, app, 'Dockerfile'), title: `apps/${app}/Dockerfile` }));

describe('Dockerfiles', () => {
  test('every service has an apps/*/Dockerfile', () => {
    expect(dockerfiles.map((d) => d.app)).toEqual(expect.arrayContaining(Object.keys(EXPECTED_PORTS)));
  });

  test.each(dockerfiles)('$title satisfies the runtime image policy', ({ app, file }) => {
    expect(checkDockerfile(readFileSync(file, 'utf8'), app)).toEqual([]);
  });

  test.each(dockerfiles)('$title EXPOSEs every containerPort of k8s/<app>/deployment.yaml', ({ app, file }) => {
    const manifest = path.join(ROOT, 'k8s', app, 'deployment.yaml');
    const df = parseDockerfile(readFileSync(file, 'utf8'));
    const exposed = allInFinalStage(df, 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number.parseInt(p, 10));
    const docs = parseAllDocuments(readFileSync(manifest, 'utf8'));
    const containerPorts = (Array.isArray(docs) ? docs : [])
      .map((d) => d.toJS())
      .filter((d) => d?.kind === 'Deployment')
      .flatMap((d) => d.spec?.template?.spec?.containers ?? [])
      .filter((c: { name: string }) => c.name === app)
      .flatMap((c: { ports?: Array<{ containerPort: number }> }) => c.ports ?? [])
      .map((p: { containerPort: number }) => p.containerPort);
    expect(containerPorts.length).toBeGreaterThan(0);
    expect(exposed).toEqual(expect.arrayContaining(containerPorts));
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

    test('resolves FROM <stage> and global ARGs for the final stage', () => {
      const df = parseDockerfile('ARG NODE=node:24-bookworm-slim\nFROM ${NODE} AS base\nUSER 1000\nFROM base AS runtime\n');
      expect(baseImageOfFinalStage(df)).toBe('node:24-bookworm-slim');
      expect(lastInFinalStage(df, 'USER')?.args).toBe('1000');
    });

    const good = [
      'FROM node:24-bookworm-slim AS build',
      'RUN npm ci',
      'FROM node:24-bookworm-slim',
      'ENV PORT=8080 METRICS_PORT=9090',
      'USER 1000:1000',
      'EXPOSE 8080 9090',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK CMD ["node", "-e", "0"]',
      'CMD ["node", "dist/apps/gateway/main.js"]',
    ];
    const without = (prefix: string) => good.filter((l) => !l.startsWith(prefix));

    test('accepts a minimal compliant Dockerfile (control)', () => {
      expect(checkDockerfile(good.join('\n'), 'gateway')).toEqual([]);
    });

    // A pipeline service: no traffic port, only METRICS_PORT.
    const metricsOnly = [
      'FROM node:24-bookworm-slim AS build',
      'RUN npm ci',
      'FROM node:24-bookworm-slim',
      'ENV METRICS_PORT=9090',
      'USER 1000:1000',
      'EXPOSE 9090',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK CMD ["node", "-e", "0"]',
      'CMD ["node", "dist/apps/change-reader/main.js"]',
    ];

    test('accepts a service whose only port is the metrics port (control)', () => {
      expect(checkDockerfile(metricsOnly.join('\n'), 'change-reader')).toEqual([]);
    });

    test('rejects: metrics-only service that EXPOSEs another port instead of 9090', () => {
      const lines = metricsOnly.map((l) => (l === 'EXPOSE 9090' ? 'EXPOSE 8080' : l));
      expect(checkDockerfile(lines.join('\n'), 'change-reader').join('\n')).toMatch(/port 9090 is not EXPOSEd/);
    });

    test('rejects: metrics-only service without any ENV port or EXPOSE', () => {
      const lines = metricsOnly.filter((l) => !l.startsWith('EXPOSE') && !l.startsWith('ENV'));
      expect(checkDockerfile(lines.join('\n'), 'change-reader').join('\n')).toMatch(/port 9090 is not EXPOSEd/);
    });

    test.each([
      { title: 'single stage', lines: good.slice(2), problem: /multi-stage/ },
      { title: 'node:22 runtime', lines: good.map((l, i) => (i === 2 ? 'FROM node:22-bookworm-slim' : l)), problem: /node:24/ },
      { title: 'no USER', lines: without('USER'), problem: /USER 1000/ },
      { title: 'USER root after USER 1000', lines: [...good, 'USER root'], problem: /USER 1000/ },
      { title: 'USER in the build stage only', lines: [good[0], 'USER 1000', ...without('USER').slice(1)], problem: /USER 1000/ },
      { title: 'no STOPSIGNAL', lines: without('STOPSIGNAL'), problem: /STOPSIGNAL/ },
      { title: 'shell-form CMD', lines: [...without('CMD'), 'CMD node dist/apps/gateway/main.js'], problem: /exec \(JSON\) form/ },
      { title: 'CMD via npm', lines: [...without('CMD'), 'CMD ["npm", "start"]'], problem: /must run dist\/apps\/gateway\/main.js/ },
      { title: 'metrics port not exposed', lines: [...without('EXPOSE'), 'EXPOSE 8080'], problem: /port 9090 is not EXPOSEd/ },
      { title: 'no HEALTHCHECK', lines: without('HEALTHCHECK'), problem: /HEALTHCHECK/ },
    ])('rejects: $title', ({ lines, problem }) => {
      const problems = checkDockerfile(lines.join('\n'), 'gateway');
      expect(problems.join('\n')).toMatch(problem);
    });
  });
});
