/**
 * The Grafana dashboards (k8s/observability/dashboards/*.json, loaded by Grafana in compose and as
 * ConfigMaps in k8s) query only what the services really export.
 *
 * A renamed metric or a misspelled label does not fail a PromQL query: the panel just goes empty.
 * So the four built services run here for real (gateway; change-reader with the synthetic source →
 * batch-writer → s3-uploader over a real redis-server and s3rver), gateway traffic (each endpoint
 * kind, a bad request, one refused at the concurrency limit), a small synthetic stream and two
 * injected S3 failures give the labelled series samples, each /metrics is scraped, and every panel
 * query is parsed with Prometheus' grammar: each metric name must be among the scraped names, each
 * label it filters or groups on among the scraped labels (or a Prometheus target label).
 * The structure is checked too: refresh 10s, unique panel ids, a datasource and targets per panel,
 * coloured thresholds, and the panels the issue asks for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { eventually, FlakyProxy, freePort, PIPELINE_SERVICES, PipelineUnderTest, PostgresServer, REPO_ROOT, RedisServer, S3Server, ServiceProcess } from '@runnel/testing';
import { exportedLabelNames, exportedSeriesNames, promqlReferences } from '../observability/promql-metric-names';

const DASHBOARD_DIR = join(REPO_ROOT, 'k8s/observability/dashboards');
/** The datasource uid provisioned in compose/grafana/provisioning/datasources/prometheus.yaml. */
const DATASOURCE_UID = 'prometheus';
/** Labels Prometheus adds to every scraped series (the target's). */
const TARGET_LABELS = ['job', 'instance'];

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface ThresholdStep {
  color?: string;
  value: number | null;
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  fieldConfig?: { defaults?: { thresholds?: { mode?: string; steps?: ThresholdStep[] } } };
  /** Collapsed rows hold their panels here. */
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  refresh?: string;
  schemaVersion?: number;
  panels?: Panel[];
}

const dashboardFiles = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards = dashboardFiles.map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Dashboard }));

/** Every panel, rows' nested ones included. */
function allPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Panels that query (rows are layout only). */
function queryPanels(d: Dashboard): Panel[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}

function exprsOf(d: Dashboard): Array<{ panel: string; expr: string }> {
  return queryPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: `${p.id} "${p.title}"`, expr: t.expr ?? '' })));
}

/** Every metric name the dashboard queries. */
function metricsOf(d: Dashboard): Set<string> {
  return new Set(exprsOf(d).flatMap(({ expr }) => promqlReferences(expr).metricNames));
}

/**
 * What a dashboard queries that the scrape does not offer, as readable lines ([] = all there):
 * syntax errors, metric names not exported, label names on no exported series.
 */
function dashboardProblems(d: Dashboard, names: Set<string>, labels: Set<string>): string[] {
  const problems: string[] = [];
  for (const { panel, expr } of exprsOf(d)) {
    const refs = promqlReferences(expr);
    for (const e of refs.errors) problems.push(`${d.title} panel ${panel}: PromQL syntax error ${e}`);
    for (const m of refs.unresolvedNameMatchers) problems.push(`${d.title} panel ${panel}: metric name matched by pattern (${m}) cannot be checked; name it`);
    for (const m of refs.metricNames) if (!names.has(m)) problems.push(`${d.title} panel ${panel}: metric ${m} is not exported`);
    for (const l of [...refs.matcherLabels, ...refs.groupingLabels]) {
      if (!labels.has(l) && !TARGET_LABELS.includes(l)) problems.push(`${d.title} panel ${panel}: label ${l} is on no exported series`);
    }
  }
  return problems;
}

describe('Grafana dashboards: structure', () => {
  test('the gateway and pipeline dashboards exist', () => {
    expect(dashboardFiles).toEqual(expect.arrayContaining(['gateway.json', 'pipeline.json']));
  });

  test.each(dashboards)('$file: refreshes every 10 s, a current schema, a uid and a title', ({ dashboard }) => {
    expect(dashboard.refresh).toBe('10s');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
  });

  test('dashboard uids are unique', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  test.each(dashboards)('$file: panel ids are unique', ({ dashboard }) => {
    const ids = allPanels(dashboard).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test.each(dashboards)('$file: every panel has the provisioned datasource and at least one query', ({ dashboard }) => {
    const panels = queryPanels(dashboard);
    expect(panels.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const p of panels) {
      if (p.datasource?.uid !== DATASOURCE_UID) problems.push(`${p.id} "${p.title}": datasource ${JSON.stringify(p.datasource)}`);
      if (!p.targets?.length) problems.push(`${p.id} "${p.title}": no targets`);
      for (const t of p.targets ?? []) {
        if (!t.expr?.trim()) problems.push(`${p.id} "${p.title}" ${t.refId}: empty expr`);
        if (t.datasource && t.datasource.uid !== DATASOURCE_UID) problems.push(`${p.id} "${p.title}" ${t.refId}: target datasource ${JSON.stringify(t.datasource)}`);
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`${p.id} "${p.title}": duplicate refIds`);
    }
    expect(problems).toEqual([]);
  });

  test.each(dashboards)('$file: every query parses and names its metrics', ({ dashboard }) => {
    const problems = exprsOf(dashboard).flatMap(({ panel, expr }) => {
      const refs = promqlReferences(expr);
      return [...refs.errors.map((e) => `${panel}: ${e}`), ...refs.unresolvedNameMatchers.map((m) => `${panel}: ${m}`), ...(refs.metricNames.length ? [] : [`${panel}: selects no metric`])];
    });
    expect(problems).toEqual([]);
  });

  test.each(dashboards)('$file: thresholds are coloured; stat panels and several graphs colour by them', ({ dashboard }) => {
    const problems: string[] = [];
    let coloured = 0;
    for (const p of queryPanels(dashboard)) {
      const steps = p.fieldConfig?.defaults?.thresholds?.steps;
      if (!steps) {
        if (p.type === 'stat') problems.push(`${p.id} "${p.title}": stat without thresholds`);
        continue;
      }
      if (steps[0]?.value !== null) problems.push(`${p.id} "${p.title}": the first step must be the base (value null)`);
      if (steps.some((s) => !s.color)) problems.push(`${p.id} "${p.title}": a step without a colour`);
      const values = steps.slice(1).map((s) => s.value as number);
      if (values.some((v, i) => typeof v !== 'number' || (i > 0 && v <= values[i - 1]))) problems.push(`${p.id} "${p.title}": step values must increase`);
      if (new Set(steps.map((s) => s.color)).size > 1) coloured++;
    }
    expect(problems).toEqual([]);
    expect(coloured).toBeGreaterThanOrEqual(6);
  });

  test('the gateway dashboard covers rate, errors, latency, batch size, stream chunks, errors by type and in-flight', () => {
    const gateway = dashboards.find((d) => d.file === 'gateway.json')!.dashboard;
    expect([...metricsOf(gateway)]).toEqual(
      expect.arrayContaining([
        'runnel_gateway_requests_total',
        'runnel_gateway_errors_total',
        'runnel_gateway_request_duration_seconds_bucket',
        'runnel_gateway_batch_size_bucket',
        'runnel_gateway_stream_chunks_sum',
        'runnel_gateway_in_flight',
      ]),
    );
    const exprs = exprsOf(gateway).map((e) => e.expr);
    for (const q of ['0.5', '0.95', '0.99']) expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q},`) && e.includes('runnel_gateway_request_duration_seconds_bucket'))).toBe(true);
    expect(exprs.some((e) => /by \(type\)/.test(e) && e.includes('runnel_gateway_errors_total'))).toBe(true);
    expect(exprs.some((e) => /by \(runnable, endpoint\)/.test(e) && e.includes('runnel_gateway_requests_total'))).toBe(true);
  });

  test('the pipeline dashboard covers events, lags, queue depth, batch size and bytes, uploads, retries, DLQ, the lease and snapshots', () => {
    const pipeline = dashboards.find((d) => d.file === 'pipeline.json')!.dashboard;
    expect([...metricsOf(pipeline)]).toEqual(
      expect.arrayContaining([
        'runnel_events_processed_total',
        'runnel_change_stream_lag_seconds',
        'runnel_checkpoint_lag_seconds',
        'runnel_queue_depth',
        'runnel_batch_size_bucket',
        'runnel_batch_bytes_bucket',
        'runnel_upload_duration_seconds_bucket',
        'runnel_retries_total',
        'runnel_dlq_size',
        'runnel_lease_holder',
        'runnel_snapshot_rows_total',
        'runnel_snapshot_remaining_rows',
        'runnel_snapshot_active',
        'runnel_snapshot_last_progress_timestamp_seconds',
      ]),
    );
    const exprs = exprsOf(pipeline).map((e) => e.expr);
    expect(exprs.some((e) => /by \(collection, operation\)/.test(e) && e.includes('runnel_events_processed_total'))).toBe(true);
    expect(exprs.some((e) => /by \(queue, state\)/.test(e) && e.includes('runnel_queue_depth'))).toBe(true);
  });

  test('the pipeline dashboard has a Snapshot row: rows/s and rows remaining by collection, active snapshots, time since the last progress while active, time left', () => {
    const pipeline = dashboards.find((d) => d.file === 'pipeline.json')!.dashboard;
    // The panels between the "Snapshot" row and the next row (rows are flat, not collapsed).
    const panels = pipeline.panels ?? [];
    const start = panels.findIndex((p) => p.type === 'row' && p.title === 'Snapshot');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = panels.findIndex((p, i) => i > start && p.type === 'row');
    const exprs = panels.slice(start + 1, end < 0 ? undefined : end).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    const has = (test: (e: string) => boolean) => exprs.some(test);
    expect(has((e) => /by \(collection\)/.test(e) && /rate\(runnel_snapshot_rows_total\{/.test(e))).toBe(true);
    expect(has((e) => /by \([^)]*collection[^)]*\)/.test(e) && e.includes('runnel_snapshot_remaining_rows') && !e.includes('rate('))).toBe(true);
    expect(has((e) => /^sum\(runnel_snapshot_active\{/.test(e))).toBe(true);
    // Seconds since the last chunk, only where a snapshot is running (a finished one keeps its last stamp).
    expect(has((e) => e.includes('time() - runnel_snapshot_last_progress_timestamp_seconds') && /and on \([^)]*\) \(runnel_snapshot_active\{[^}]*\} == 1\)/.test(e))).toBe(true);
    // Time left: rows remaining over the rate of rows.
    expect(has((e) => /runnel_snapshot_remaining_rows[\s\S]*\/[\s\S]*rate\(runnel_snapshot_rows_total/.test(e))).toBe(true);
  });
});

describe('Grafana dashboards: every query refers to what the running services export', () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let s3: S3Server;
  let proxy: FlakyProxy;
  let gateway: ServiceProcess;
  let pipeline: PipelineUnderTest;
  const metricsPorts: Record<string, number> = {};
  let gatewayPort = 0;
  const scraped: Record<string, string> = {};
  let names = new Set<string>();
  let labels = new Set<string>();

  const alive = () => {
    if (!gateway.running) throw new Error(`gateway exited:\n${gateway.tail(40)}`);
    pipeline.assertRunning();
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    // The agent API's series (runnel_agent_*) exist when it is on: PostgreSQL + GATEWAY_REDIS_URL.
    postgres = await PostgresServer.start();
    s3 = await S3Server.start(['lake']);
    // The first uploads fail: retries and failed attempts get their `stage` label.
    proxy = await FlakyProxy.start(s3.endpoint);
    proxy.failNext(2, 503);
    const COUNT = 300;
    metricsPorts.gateway = await freePort();
    gatewayPort = await freePort();
    // One request at a time: a second one is refused (rejected, reason overload).
    gateway = new ServiceProcess('gateway', {
      PORT: String(gatewayPort), METRICS_PORT: String(metricsPorts.gateway), HOST: '127.0.0.1', LOG_LEVEL: 'warn', MAX_CONCURRENT_REQUESTS: '1',
      RUNNABLES_MODULE: join(REPO_ROOT, 'tools/bench/gateway/hold-runnables.cjs'), HOLD_SECONDS: '30',
      POSTGRES_URI: await postgres.createDatabase('dashboards'), GATEWAY_REDIS_URL: redis.url,
    });
    pipeline = await PipelineUnderTest.start({
      redis,
      s3,
      s3Endpoint: proxy.endpoint,
      s3Prefix: 'cdc',
      reader: { SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_COLLECTIONS: 'orders,customers', SYNTHETIC_DOC_BYTES: '256', BATCH_SIZE: '100', BATCH_TIMEOUT_MS: '200' },
      writer: { FORMAT: 'jsonl', COMPRESSION: 'zstd' },
      uploader: { RETRY_DELAY_MS: '10' },
    });
    for (const app of PIPELINE_SERVICES) metricsPorts[app] = pipeline.port(app);

    // Every synthetic event stored: encode, upload and checkpoint metrics all have samples.
    await pipeline.drained(COUNT);
    alive();

    // Gateway traffic on each endpoint kind, so the labelled series exist.
    const gw = `http://127.0.0.1:${gatewayPort}`;
    await eventually('the gateway to be ready', async () => (await fetch(`${gw}/ready`)).ok, 30_000);
    const post = (path: string, body: unknown) => fetch(`${gw}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect((await post('/echo/invoke', { input: 'hello' })).status).toBe(200);
    expect((await post('/echo/batch', { inputs: ['a', 'b', 'c'] })).status).toBe(200);
    const stream = await post('/echo/stream', { input: 'one two three' });
    expect(stream.status).toBe(200);
    await stream.text();
    // One run of the built-in agent: the runnel_agent_* series with graph, status and route labels.
    const agentRun = await post('/runs/wait', { assistant_id: 'agent', input: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(agentRun.status).toBe(200);
    await agentRun.text();
    expect((await post('/chat/invoke', { input: { input: 'hi' } })).status).toBe(200);
    expect((await post('/echo/invoke', '{not json')).status).toBeGreaterThanOrEqual(400);
    // A stream that stays open holds the only slot (a body still arriving holds none: the gateway
    // reads bodies before admitting a request), so the next request is refused.
    const held = request(`${gw}/hold/stream`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    const heldStatus = new Promise<number>((resolve, reject) => {
      held.on('response', (res) => resolve(res.statusCode ?? 0));
      held.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
    held.end(JSON.stringify({ input: 'held' }));
    expect(await heldStatus).toBe(200);
    await eventually('the held request to be in flight', async () => /^runnel_gateway_in_flight\{[^}]*\} 1$/m.test(await (await fetch(`http://127.0.0.1:${metricsPorts.gateway}/metrics`)).text()));
    expect((await post('/echo/invoke', { input: 'no room' })).status).toBe(503);
    held.destroy(); // the client leaves: the run is cancelled and the slot freed
    await eventually('the slot to be free again', async () => /^runnel_gateway_in_flight\{[^}]*\} 0$/m.test(await (await fetch(`http://127.0.0.1:${metricsPorts.gateway}/metrics`)).text()));

    // Queue depth is sampled when /ready is asked (as the readiness probes do).
    for (const app of ['batch-writer', 's3-uploader']) expect((await fetch(`http://127.0.0.1:${metricsPorts[app]}/ready`)).ok).toBe(true);
    alive();
    for (const app of Object.keys(metricsPorts)) {
      const res = await fetch(`http://127.0.0.1:${metricsPorts[app]}/metrics`);
      expect(res.ok).toBe(true);
      scraped[app] = await res.text();
    }
    names = new Set(Object.values(scraped).flatMap((text) => [...exportedSeriesNames(text)]));
    labels = new Set(Object.values(scraped).flatMap((text) => [...exportedLabelNames(text)]));
  }, 150_000);

  afterAll(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), pipeline?.stop('SIGKILL')]);
    await proxy?.stop();
    await s3?.stop();
    await redis?.stop();
    await postgres?.stop();
  });

  test('the scrape has the services own series, with samples for the labelled ones', () => {
    expect(scraped.gateway).toMatch(/^runnel_gateway_requests_total\{.*runnable="echo".*endpoint="stream".*\} 1$/m);
    expect(scraped.gateway).toMatch(/^runnel_gateway_batch_size_bucket\{.*runnable="echo".*\} /m);
    expect(scraped['batch-writer']).toMatch(/^runnel_events_processed_total\{.*collection="orders".*\} \d+/m);
    expect(scraped['change-reader']).toMatch(/^runnel_lease_holder\{.*stream=".+".*\} 1$/m);
    expect(scraped['change-reader']).toMatch(/^runnel_checkpoint_lag_seconds\{.*stream=".+".*\} /m);
    expect(scraped['s3-uploader']).toMatch(/^runnel_queue_depth\{.*state="waiting".*\} \d+/m);
    expect(scraped['s3-uploader']).toMatch(/^runnel_retries_total\{.*stage="upload".*\} [2-9]/m);
    expect(scraped.gateway).toMatch(/^runnel_gateway_rejected_total\{.*reason="overload".*\} 1$/m);
    for (const text of Object.values(scraped)) expect(text).toMatch(/^process_resident_memory_bytes\{.*\} \d+/m);
  });

  test.each(dashboards)('$file: every metric and label a query uses is exported', ({ dashboard }) => {
    expect(dashboardProblems(dashboard, names, labels)).toEqual([]);
  });

  test('the check can fail: an unknown metric, a misspelled label and a syntax error are reported', () => {
    const fake: Dashboard = {
      title: 'Fake',
      panels: [
        {
          id: 1,
          type: 'timeseries',
          title: 'not exported',
          datasource: { uid: DATASOURCE_UID },
          targets: [
            { refId: 'A', expr: 'sum(rate(runnel_nonexistent_total[$__rate_interval]))' },
            { refId: 'B', expr: 'sum by (runable) (rate(runnel_gateway_requests_total{service="gateway"}[5m]))' },
            { refId: 'C', expr: 'sum(rate(runnel_gateway_requests_total[5m]) by' },
          ],
        },
      ],
    };
    const problems = dashboardProblems(fake, names, labels);
    expect(problems).toEqual([
      'Fake panel 1 "not exported": metric runnel_nonexistent_total is not exported',
      'Fake panel 1 "not exported": label runable is on no exported series',
      expect.stringMatching(/^Fake panel 1 "not exported": PromQL syntax error at \d+/),
    ]);
  });
});

describe('exportedSeriesNames / exportedLabelNames (the scrape side of the comparison)', () => {
  const exposition = [
    '# HELP req_total Requests',
    '# TYPE req_total counter',
    'req_total{route="a",status="200"} 3',
    '# HELP lat_seconds Latency',
    '# TYPE lat_seconds histogram',
    '# HELP idle_things A labelled gauge without children yet',
    '# TYPE idle_things gauge',
    'up_since 1.7e9',
  ].join('\n');

  test('a histogram offers _bucket, _sum and _count; declared families count before they have samples', () => {
    expect([...exportedSeriesNames(exposition)].sort()).toEqual(['idle_things', 'lat_seconds_bucket', 'lat_seconds_count', 'lat_seconds_sum', 'req_total', 'up_since']);
  });

  test('label names come from samples', () => {
    expect([...exportedLabelNames(exposition)].sort()).toEqual(['route', 'status']);
  });
});
