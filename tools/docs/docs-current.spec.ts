/**
 * The generated parts of docs/deployment.md and docs/observability.md must be what
 * `npm run docs:generate` writes now: a config key, metric or alert changed without regenerating
 * fails here. The generator's parts are checked on their own too, with negative controls.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkpointKeys, leaseKeys } from '@runnel/checkpoint';
import { env } from '@runnel/config';
import { BodyStore, DEFAULT_PREFIX, QUEUES } from '@runnel/queue';
import { readAlerts, renderAlerts, RULES_FILE } from './alerts-table';
import { describeEnvVar } from './config-table';
import { extractKeyDocs } from './jsdoc-extractor';
import { collectMetrics } from './metrics-list';
import { REGION, renderDocs, replaceRegions, undocumentedVariables } from './render-docs';

const ROOT = path.resolve(__dirname, '..', '..');

const tempDirs: string[] = [];
/** A scratch directory, removed after this file's tests. */
function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'runnel-docs-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  committed: ${al[i] ?? '(end of file)'}\n  generated: ${bl[i] ?? '(end of file)'}`;
  }
  return '';
}

describe('committed docs', () => {
  it.each(renderDocs(ROOT).map((d) => [d.file, d] as const))('%s matches npm run docs:generate', (_file, doc) => {
    if (doc.current !== doc.expected) throw new Error(`${doc.file} is out of date; run npm run docs:generate (${firstDifference(doc.current, doc.expected)})`);
  });

  it('every configuration variable has a description', () => {
    expect(undocumentedVariables(ROOT)).toEqual([]);
  });

  it('a hand edit inside a generated region is noticed', () => {
    const real = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
    const edited = (file: string) => real(file).replace('| `JOB_LOCK_MS` | integer, 1000–3600000 | `30000` |', '| `JOB_LOCK_MS` | integer, 1000–3600000 | `60000` |');
    expect(edited('docs/deployment.md')).not.toBe(real('docs/deployment.md'));
    const doc = renderDocs(ROOT, edited).find((d) => d.file === 'docs/deployment.md')!;
    expect(doc.current).not.toBe(doc.expected);
    expect(doc.expected).toContain('| `JOB_LOCK_MS` | integer, 1000–3600000 | `30000` |');
  });
});

describe('JSDoc extractor', () => {
  it('finds the comment above a schema key, and not the keys spread in', () => {
    const docs = extractKeyDocs(path.join(ROOT, 'apps/batch-writer/src/config.ts'), 'BatchWriterConfigSchema');
    expect(docs.get('JOB_LOCK_MS')).toBe("How long a job's lock lasts without renewal: a worker killed mid-job has its job taken over after this.");
    expect(docs.get('NUM_WORKERS')).toBe("Batches one pod encodes at once (the queue worker's concurrency).");
    expect(docs.has('REDIS_URL')).toBe(false); // spread in from PipelineConfigSchema, documented there
  });

  it('joins a multi-line comment into one line and refuses an unknown export', () => {
    const dir = scratch();
    const file = path.join(dir, 'schema.ts');
    writeFileSync(file, 'export const S = {\n  /**\n   * First line\n   * second line.\n   */\n  A: 1,\n  // not JSDoc\n  B: 2,\n} as const;\n');
    expect([...extractKeyDocs(file, 'S')]).toEqual([
      ['A', 'First line second line.'],
      ['B', ''],
    ]);
    expect(() => extractKeyDocs(file, 'Other')).toThrow(/no exported object Other/);
  });
});

describe('config table rows', () => {
  it('reads type, default, required and secret from the builders', () => {
    expect(describeEnvVar('N', env.int(4, { min: 1, max: 256 }))).toMatchObject({ type: 'integer, 1–256', default: '4', required: false, secret: false });
    expect(describeEnvVar('T', env.secondsAsMs(30, { min: 0.1 }))).toMatchObject({ type: 'seconds (decimal), 0.1–86400', default: '30' });
    expect(describeEnvVar('B', env.bool(true))).toMatchObject({ type: 'boolean', default: 'true' });
    expect(describeEnvVar('L', env.list(['a', 'b']))).toMatchObject({ type: 'comma-separated list', default: 'a,b' });
    expect(describeEnvVar('S', env.bytes('8mb'))).toMatchObject({ type: 'size: bytes, or with kb / mb / gb', default: '8mb' });
    expect(describeEnvVar('E', env.oneOf(['fail', 'latest'], 'fail'))).toMatchObject({ type: 'one of `fail`, `latest`', default: 'fail' });
    expect(describeEnvVar('U', env.url({ default: 'redis://h:1', protocols: ['redis', 'rediss'] }))).toMatchObject({ type: 'URL (redis://, rediss://)', default: 'redis://h:1' });
    expect(describeEnvVar('R', env.requiredStr())).toMatchObject({ type: 'string', default: undefined, required: true, secret: false });
    expect(describeEnvVar('K', env.secret())).toMatchObject({ type: 'string', default: undefined, required: false, secret: true });
    expect(describeEnvVar('KS', env.secretList())).toMatchObject({ type: 'comma-separated list', required: false, secret: true });
  });
});

describe('metrics list', () => {
  it('lists each metric once with the services that export and move it', () => {
    const metrics = collectMetrics(ROOT);
    const byName = new Map(metrics.map((m) => [m.name, m]));
    expect(byName.get('runnel_queue_depth')).toMatchObject({ type: 'gauge', labels: ['queue', 'state'], exportedBy: ['change-reader', 'batch-writer', 's3-uploader'] });
    expect(byName.get('runnel_lease_holder')?.updatedBy).toEqual(['change-reader']);
    expect(byName.get('runnel_upload_bytes_total')?.updatedBy).toEqual(['s3-uploader']);
    expect(byName.get('runnel_dlq_size')?.updatedBy).toEqual(['change-reader', 'batch-writer', 's3-uploader']);
    expect(byName.get('runnel_gateway_requests_total')).toMatchObject({ type: 'counter', labels: ['runnable', 'endpoint', 'status'], exportedBy: ['gateway'] });
    expect(metrics.some((m) => /^(process|nodejs)_/.test(m.name))).toBe(false);
  });
});

describe('alerts table', () => {
  it('reads a PrometheusRule and links runbook anchors into docs/runbooks.md', () => {
    const dir = scratch();
    expect(readAlerts(dir)).toBeUndefined();
    expect(renderAlerts(undefined)).toContain('not in the repository yet');
    mkdirSync(path.join(dir, path.dirname(RULES_FILE)), { recursive: true });
    writeFileSync(
      path.join(dir, RULES_FILE),
      [
        'apiVersion: monitoring.coreos.com/v1',
        'kind: PrometheusRule',
        'metadata: { name: runnel }',
        'spec:',
        '  groups:',
        '    - name: pipeline',
        '      rules:',
        '        - record: job:x:rate5m',
        '          expr: rate(x[5m])',
        '        - alert: RunnelDlqNotEmpty',
        '          expr: |',
        '            max(runnel_dlq_size) > 0',
        '          for: 10m',
        '          labels: { severity: warning }',
        '          annotations: { summary: "Dead letters | waiting", runbook_url: "https://example.com/docs/runbooks.md#dlq" }',
      ].join('\n'),
    );
    const alerts = readAlerts(dir)!;
    expect(alerts).toEqual([{ group: 'pipeline', alert: 'RunnelDlqNotEmpty', severity: 'warning', expr: 'max(runnel_dlq_size) > 0', for: '10m', runbook: 'https://example.com/docs/runbooks.md#dlq', summary: 'Dead letters | waiting' }]);
    expect(renderAlerts(alerts)).toContain('| `RunnelDlqNotEmpty` | warning | 10m | `max(runnel_dlq_size) > 0` | Dead letters \\| waiting | [dlq](runbooks.md#dlq) |');
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('runbooks', () => {
  const runbooks = anchors(readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf8'));

  it('has a section for every runbook the operators were promised', () => {
    for (const a of ['pod-wont-start', 'high-error-rate', 'high-latency', 'memory', 'scaling', 'pipeline-lag', 'dlq', 'history-lost', 'lease-stuck', 'redis-lost-data']) expect(runbooks).toContain(a);
  });

  it('has the section every alert links to', () => {
    const links = (readAlerts(ROOT) ?? []).map((a) => /runbooks\.md#([\w-]+)$/.exec(a.runbook)?.[1]).filter((a): a is string => a !== undefined);
    expect(links.length).toBeGreaterThan(0); // no rules or no runbook links would pass the loop below vacuously
    for (const a of links) expect(runbooks).toContain(a);
  });

  const text = readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf8');

  it('names the Redis keys the services use', () => {
    const k = { ...checkpointKeys(DEFAULT_PREFIX, '<stream>'), ...leaseKeys(DEFAULT_PREFIX, '<stream>') };
    for (const key of Object.values(k)) expect(text).toContain(`'${key}'`);
    expect(text).toContain(new BodyStore(undefined as never, DEFAULT_PREFIX).keyFor('<object key>'));
    expect(text).toContain(new BodyStore(undefined as never, DEFAULT_PREFIX).batchKeyFor('<job id>'));
    for (const q of Object.values(QUEUES)) expect(text).toContain(`${DEFAULT_PREFIX}:${q}:`);
  });

  it('filters logs on messages the services write', () => {
    const sources = [...sourceTexts(path.join(ROOT, 'apps')), ...sourceTexts(path.join(ROOT, 'libs'))].join('\n');
    const quoted = [...text.matchAll(/\.msg=="([^"]+)"|startswith\("([^"]+)"\)/g)].map((m) => m[1] ?? m[2]);
    expect(quoted.length).toBeGreaterThan(5);
    for (const msg of quoted) expect(sources).toContain(msg);
  });

  it('the anchor rule matches what a heading renders to', () => {
    expect(anchors("## Pod won't start\n### DLQ\n")).toEqual(new Set(['pod-wont-start', 'dlq']));
  });
});

describe('commands', () => {
  it('every npm run script the docs name exists', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
    for (const file of ['docs/deployment.md', 'docs/runbooks.md', 'docs/observability.md']) {
      const named = [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1]);
      for (const script of named) expect({ file, script, exists: scripts.includes(script) }).toEqual({ file, script, exists: true });
    }
  });
});

function sourceTexts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.includes('node_modules'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

describe('regions', () => {
  it('refuses a doc without its markers or with an unknown region', () => {
    expect(() => replaceRegions('# no markers\n', { config: 'x' }, 'a.md')).toThrow(/missing <!-- generated:config:start -->/);
    expect(() => replaceRegions(`${REGION('typo', 'start')}\n${REGION('typo', 'end')}\n`, {}, 'a.md')).toThrow(/unknown generated region "typo"/);
    expect(replaceRegions(`a\n${REGION('x', 'start')}\nold\n${REGION('x', 'end')}\nb\n`, { x: 'new' }, 'a.md')).toBe(`a\n${REGION('x', 'start')}\nnew\n${REGION('x', 'end')}\nb\n`);
  });

  it('the committed docs keep their markers', () => {
    for (const file of ['docs/deployment.md', 'docs/observability.md']) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      expect(text).toContain(REGION(file.includes('deployment') ? 'config' : 'metrics', 'start'));
    }
  });
});
