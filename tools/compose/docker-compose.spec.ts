/**
 * docker-compose.yml, validated structurally (these machines have no Docker engine to run it):
 *
 * - it parses; every service has an image (third-party ones pinned to a tag) or a build whose
 *   Dockerfile exists;
 * - the Runnel services' environment names are ones their config schema reads (a typo is silently
 *   ignored by the service), and the values, as compose fills in the `${VAR:-default}`s, parse;
 *   secrets come only from `${VAR:-default}`;
 * - `docker compose up` settles by itself: every long-running service has a health check, and
 *   every depends_on waits for service_healthy, or service_completed_successfully for the one-shot
 *   init containers;
 * - Prometheus scrapes every Runnel service's metrics port as compose runs it; Grafana's
 *   provisioning exists, its datasource is the uid the dashboards use, and it loads the dashboards
 *   directory;
 * - published host ports are unique, named volumes are declared and bind-mounted files exist;
 * - Redis runs as the pipeline requires (AOF, noeviction) and MongoDB as a replica set.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '@runnel/config';
import { parse } from 'yaml';
import { SERVICE_SCHEMAS, unknownEnvNames } from '../config/service-env';
import { BAKE_FILE, parseBakeArgs } from '../docker/image-build-args';

const ROOT = join(__dirname, '../..');

/** One-shot containers: they run to completion, so they have no health check; dependants wait for their success. */
const isOneShot = (name: string) => name.endsWith('-init');

/**
 * Long-running services without a health check, and why. Nothing may wait for their health.
 * otel-collector: the image is FROM scratch (no shell, no HTTP client to probe with).
 */
const NO_HEALTHCHECK = new Set(['otel-collector']);

/** Variables that hold credentials. */
const SECRET_NAME = /(KEY|SECRET|PASSWORD|TOKEN)/;

type DependsOn = string[] | Record<string, { condition?: string }>;
type PortSpec = string | number | { published?: string | number; target?: number };
type VolumeSpec = string | { type?: string; source?: string; target?: string };

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string | string[];
  ports?: PortSpec[];
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: DependsOn;
  volumes?: VolumeSpec[];
  restart?: string;
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

// `<<:` merge keys share the pipeline services' common environment.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const services = Object.entries(compose.services);
const appServices = services.filter(([name]) => name in SERVICE_SCHEMAS);

/** Compose's interpolation of one value with nothing set in the shell: `${VAR:-default}` → default, `${VAR}` → '', `$$` → `$`. */
function interpolate(value: string): string {
  return value
    .split('$$')
    .map((part) => part.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name, def: string | undefined) => def ?? '').replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, ''))
    .join('$');
}

/** The service's environment as written (list or map form). */
function rawEnv(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => {
      const i = e.indexOf('=');
      return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function resolvedEnv(svc: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(rawEnv(svc)).map(([k, v]) => [k, interpolate(v)]));
}

function dependsOn(svc: ComposeService): Array<{ service: string; condition?: string }> {
  const d = svc.depends_on;
  if (!d) return [];
  if (Array.isArray(d)) return d.map((service) => ({ service }));
  return Object.entries(d).map(([service, v]) => ({ service, condition: v?.condition }));
}

/** [host port, container port] of each published port ("8080:80", "127.0.0.1:8080:80/tcp", long form). */
function publishedPorts(svc: ComposeService): Array<{ host: string; container: number }> {
  return (svc.ports ?? []).flatMap((p) => {
    if (typeof p === 'object') return p.published === undefined ? [] : [{ host: String(p.published), container: Number(p.target) }];
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.length < 2) return [];
    return [{ host: parts.at(-2)!, container: Number(parts.at(-1)) }];
  });
}

function volumeMounts(svc: ComposeService): Array<{ source: string; target: string; bind: boolean }> {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target ?? '', bind: v.type === 'bind' };
    const [source, target] = v.split(':');
    return { source, target: target ?? source, bind: /^[./~]/.test(source) };
  });
}

/** The port a Runnel service serves /metrics on: METRICS_PORT as its config schema reads compose's value (its default when unset). */
function metricsPort(name: string, svc: ComposeService): number {
  const schema = SERVICE_SCHEMAS[name].METRICS_PORT as { parse(value: unknown): number } | undefined;
  if (!schema) throw new Error(`${name}: the config schema has no METRICS_PORT`);
  return schema.parse(resolvedEnv(svc).METRICS_PORT);
}

function commandOf(svc: ComposeService): string[] {
  return Array.isArray(svc.command) ? svc.command : svc.command ? svc.command.split(/\s+/) : [];
}

describe('docker-compose.yml (validated structurally; no Docker engine here)', () => {
  test('has the data stores, the four Runnel services, their init containers and the observability stack', () => {
    expect(services.map(([n]) => n).sort()).toEqual(
      ['batch-writer', 'change-reader', 'gateway', 'grafana', 'minio', 'minio-init', 'mongodb', 'mongodb-init', 'otel-collector', 'prometheus', 'redis', 's3-uploader'].sort(),
    );
  });

  test('every service has an image (pinned) or a build whose Dockerfile exists', () => {
    const problems: string[] = [];
    for (const [name, svc] of services) {
      if (!svc.image && !svc.build) problems.push(`${name}: neither image nor build`);
      if (svc.build && !existsSync(join(ROOT, svc.build.context, svc.build.dockerfile))) problems.push(`${name}: ${svc.build.dockerfile} missing`);
      if (svc.image && !svc.build) {
        const tag = /:([^/:]+)$/.exec(svc.image)?.[1];
        if (!tag || tag === 'latest') problems.push(`${name}: image ${svc.image} is not pinned to a tag`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('every Runnel service is built from the one Dockerfile with the build args of docker-bake.hcl', () => {
    const bake = parseBakeArgs(readFileSync(BAKE_FILE, 'utf8'));
    for (const [name, svc] of appServices) {
      expect({ name, context: svc.build?.context, dockerfile: svc.build?.dockerfile }).toEqual({ name, context: '.', dockerfile: 'Dockerfile' });
      expect({ name, args: svc.build?.args }).toEqual({ name, args: bake[name] });
      expect(svc.build?.args?.APP).toBe(name);
    }
  });

  test('health checks on every long-running service; none on the one-shot init containers', () => {
    const problems: string[] = [];
    for (const [name, svc] of services) {
      const has = !!svc.healthcheck?.test?.length && !svc.healthcheck.disable;
      if (isOneShot(name)) {
        if (has) problems.push(`${name}: a one-shot container with a health check would never be healthy once done`);
        if (svc.restart !== 'no') problems.push(`${name}: one-shot containers must not restart (restart: "no")`);
      } else if (!has && !NO_HEALTHCHECK.has(name)) {
        problems.push(`${name}: no health check`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('depends_on waits for health, or for the one-shot init containers to succeed', () => {
    const problems: string[] = [];
    for (const [name, svc] of services) {
      for (const { service, condition } of dependsOn(svc)) {
        const dep = compose.services[service];
        if (!dep) {
          problems.push(`${name} depends on unknown ${service}`);
          continue;
        }
        const wanted = isOneShot(service) ? 'service_completed_successfully' : 'service_healthy';
        if (condition !== wanted) problems.push(`${name} → ${service}: condition ${condition ?? '(none: only waits for the start)'}, want ${wanted}`);
        if (wanted === 'service_healthy' && !dep.healthcheck?.test?.length) problems.push(`${name} → ${service}: ${service} has no health check to wait for`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('each service waits for what it needs before starting', () => {
    const deps = (name: string) => dependsOn(compose.services[name]).map((d) => d.service).sort();
    expect(deps('change-reader')).toEqual(['mongodb-init', 'redis']);
    expect(deps('batch-writer')).toEqual(['redis']);
    expect(deps('s3-uploader')).toEqual(['minio-init', 'redis']);
    expect(deps('mongodb-init')).toEqual(['mongodb']);
    expect(deps('minio-init')).toEqual(['minio']);
    expect(deps('grafana')).toEqual(['prometheus']);
  });

  test('published host ports are unique', () => {
    const hostPorts = services.flatMap(([, s]) => publishedPorts(s).map((p) => p.host));
    expect(hostPorts.length).toBeGreaterThan(0);
    expect(hostPorts.filter((p, i) => hostPorts.indexOf(p) !== i)).toEqual([]);
  });

  test('named volumes are declared; bind-mounted files and directories exist', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const problems: string[] = [];
    const used = new Set<string>();
    for (const [name, svc] of services) {
      for (const v of volumeMounts(svc)) {
        if (v.bind) {
          if (!existsSync(join(ROOT, v.source))) problems.push(`${name}: ${v.source} does not exist`);
        } else {
          used.add(v.source);
          if (!declared.includes(v.source)) problems.push(`${name}: volume ${v.source} is not declared under volumes:`);
        }
      }
    }
    for (const v of declared) if (!used.has(v)) problems.push(`volume ${v} is declared but unused`);
    expect(problems).toEqual([]);
  });

  describe('Runnel services environment', () => {
    test.each(appServices.map(([name, svc]) => ({ name, svc })))('$name: every name is one the service reads', ({ name, svc }) => {
      const unknown = unknownEnvNames(SERVICE_SCHEMAS[name], Object.keys(rawEnv(svc)));
      expect(unknown).toEqual([]);
    });

    test.each(appServices.map(([name, svc]) => ({ name, svc })))('$name: the values parse with the schema, as compose fills them in', ({ name, svc }) => {
      expect(() => parseConfig(SERVICE_SCHEMAS[name], resolvedEnv(svc))).not.toThrow();
    });

    test('secrets come only from ${VAR:-default} (dev defaults), never written in', () => {
      const problems: string[] = [];
      for (const [name, svc] of services) {
        for (const [k, v] of Object.entries(rawEnv(svc))) {
          if (SECRET_NAME.test(k) && v !== '' && !/^\$\{[A-Z0-9_]+(:-[^}]*)?\}$/.test(v)) problems.push(`${name}: ${k} is written in; use \${${k}:-…}`);
        }
      }
      expect(problems).toEqual([]);
    });

    test('the pipeline reaches Redis, MongoDB and MinIO by their compose names; traces go to the collector', () => {
      const env = (n: string) => resolvedEnv(compose.services[n]);
      for (const n of ['change-reader', 'batch-writer', 's3-uploader']) expect(new URL(env(n).REDIS_URL).hostname).toBe('redis');
      expect(new URL(env('change-reader').MONGODB_URI).hostname).toBe('mongodb');
      expect(new URL(env('s3-uploader').AWS_ENDPOINT_URL_S3).hostname).toBe('minio');
      expect(env('s3-uploader').S3_FORCE_PATH_STYLE).toBe('true');
      expect(env('s3-uploader').S3_BUCKET).toBe(env('minio-init').S3_BUCKET);
      for (const [name] of appServices) expect({ name, otel: env(name).OTEL_EXPORTER_OTLP_ENDPOINT }).toEqual({ name, otel: 'http://otel-collector:4318' });
      const collector = parse(readFileSync(join(ROOT, 'compose/otel-collector.yaml'), 'utf8'));
      expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
      expect(collector.service.pipelines.traces.receivers).toContain('otlp');
    });
  });

  test('Redis keeps queue state as the pipeline requires (AOF on, no eviction)', () => {
    const cmd = commandOf(compose.services.redis).join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
  });

  test('MongoDB runs as the replica set the change-reader connects to, initiated by mongodb-init', () => {
    const cmd = commandOf(compose.services.mongodb);
    const replSet = cmd[cmd.indexOf('--replSet') + 1];
    expect(replSet).toBe('rs0');
    expect(new URL(resolvedEnv(compose.services['change-reader']).MONGODB_URI).searchParams.get('replicaSet')).toBe(replSet);
    const init = readFileSync(join(ROOT, 'compose/mongo-init.js'), 'utf8');
    expect(init).toContain(`_id: '${replSet}'`);
    expect(volumeMounts(compose.services['mongodb-init']).map((v) => v.source)).toContain('./compose/mongo-init.js');
  });

  test('Prometheus scrapes every Runnel service on the metrics port it runs with', () => {
    const prom = compose.services.prometheus;
    const configMount = volumeMounts(prom).find((v) => v.target === '/etc/prometheus/prometheus.yml');
    expect(configMount?.source).toBe('./compose/prometheus/prometheus.yml');
    const config = parse(readFileSync(join(ROOT, configMount!.source), 'utf8')) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }> }> };
    const problems: string[] = [];
    for (const [name, svc] of appServices) {
      const port = metricsPort(name, svc);
      const job = config.scrape_configs.find((j) => (j.static_configs ?? []).some((s) => s.targets.includes(`${name}:${port}`)));
      if (!job) problems.push(`${name}: no scrape target ${name}:${port}`);
      else if (job.metrics_path && job.metrics_path !== '/metrics') problems.push(`${name}: metrics_path ${job.metrics_path}`);
      // Published too, so the metrics can be read from the host.
      if (!publishedPorts(svc).some((p) => p.container === port)) problems.push(`${name}: metrics port ${port} is not published`);
    }
    // Nothing scraped that compose does not run.
    for (const j of config.scrape_configs) {
      for (const t of (j.static_configs ?? []).flatMap((s) => s.targets)) {
        const host = t.split(':')[0];
        if (host !== '127.0.0.1' && host !== 'localhost' && !compose.services[host]) problems.push(`job ${j.job_name}: target ${t} is no compose service`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('Grafana is provisioned with the Prometheus datasource the dashboards use, and loads the dashboards directory', () => {
    const grafana = compose.services.grafana;
    const mounts = volumeMounts(grafana);
    const provisioning = mounts.find((v) => v.target === '/etc/grafana/provisioning');
    expect(provisioning?.source).toBe('./compose/grafana/provisioning');
    const provDir = join(ROOT, provisioning!.source);

    const datasources = readdirSync(join(provDir, 'datasources')).flatMap(
      (f) => (parse(readFileSync(join(provDir, 'datasources', f), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> }).datasources,
    );
    const ds = datasources.find((d) => d.type === 'prometheus');
    expect(ds).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
    const promUrl = new URL(ds!.url);
    expect(compose.services[promUrl.hostname]).toBeDefined();

    const providers = readdirSync(join(provDir, 'dashboards')).flatMap(
      (f) => (parse(readFileSync(join(provDir, 'dashboards', f), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> }).providers,
    );
    const dashboardsMount = mounts.find((v) => v.source === './k8s/observability/dashboards');
    expect(dashboardsMount).toBeDefined();
    expect(providers.map((p) => p.options.path)).toContain(dashboardsMount!.target);

    const dashboardDir = join(ROOT, dashboardsMount!.source);
    const files = readdirSync(dashboardDir).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['gateway.json', 'pipeline.json']));
    // Every datasource a dashboard names is the provisioned one.
    for (const f of files) {
      const uids = new Set([...readFileSync(join(dashboardDir, f), 'utf8').matchAll(/"type": "prometheus",\s*"uid": "([^"]+)"/g)].map((m) => m[1]));
      expect({ f, uids: [...uids] }).toEqual({ f, uids: [ds!.uid] });
    }
  });

  describe('the checks can fail (negative controls)', () => {
    test('a misspelled or foreign environment name is reported', () => {
      const svc: ComposeService = { environment: { REDIS_URL: 'redis://redis:6379', BATCH_SIZ: '10', S3_BUCKET: 'lake' } };
      expect(unknownEnvNames(SERVICE_SCHEMAS['change-reader'], Object.keys(rawEnv(svc)))).toEqual(['BATCH_SIZ', 'S3_BUCKET']);
    });

    test('a bad value is reported after interpolation', () => {
      expect(() => parseConfig(SERVICE_SCHEMAS['batch-writer'], resolvedEnv({ environment: { FORMAT: '${FORMAT:-xml}' } }))).toThrow(/FORMAT/);
    });

    test('interpolation follows compose: defaults, unset, and $$ escapes', () => {
      expect(interpolate('${A:-x}/${B-y}/${C}/$$HOME/$D')).toBe('x/y//$HOME/');
    });

    test('port forms: short, with an address and protocol, and long', () => {
      expect(publishedPorts({ ports: ['8080:80', '127.0.0.1:9000:9000/tcp', { published: 3000, target: 3000 }, '5000'] })).toEqual([
        { host: '8080', container: 80 },
        { host: '9000', container: 9000 },
        { host: '3000', container: 3000 },
      ]);
    });

    test("the metrics port is the service's default when compose does not set it", () => {
      expect(metricsPort('batch-writer', { build: { context: '.', dockerfile: 'Dockerfile' } })).toBe(9090);
      expect(metricsPort('batch-writer', { build: { context: '.', dockerfile: 'Dockerfile' }, environment: { METRICS_PORT: '9191' } })).toBe(9191);
    });
  });
});
