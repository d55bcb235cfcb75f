/**
 * Environment variables in k8s/<service>/ must be ones the service reads.
 *
 * A service reads only the names in its config schema (apps/<service>/src/config.ts, which
 * includes the pipeline's PipelineConfigSchema); any other name in a ConfigMap or Secret is
 * silently ignored and the default applies (BATCH_SIZ: "5000" would run with 1000). So for every
 * k8s/<service>/configmap.yaml, secrets.yaml.example and the container `env` of deployment.yaml:
 *
 * - each name is a key of that service's schema, or read by Node / the OpenTelemetry SDK
 *   (NODE_OPTIONS, NODE_ENV, OTEL_*);
 * - the values parse with the schema, as the pod sees them (ConfigMap, then the Secret template,
 *   then `env`; later sources win);
 * - NODE_OPTIONS' heap cap fits the memory limit, and SHUTDOWN_TIMEOUT (+ preStop) fits
 *   terminationGracePeriodSeconds.
 *
 * The same for each overlay as rendered (k8s/overlays/dev patches LOG_LEVEL and the resources).
 *
 * Negative controls show a misspelled name, another service's name and a bad value are caught.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '@runnel/config';
import { parseAllDocuments } from 'yaml';
import { OVERLAYS, renderOverlay } from './k8s-test-support';
import { SERVICE_SCHEMAS, unknownEnvNames, configProblems } from '../config/service-env';

const ROOT = path.resolve(__dirname, '..', '..');
const K8S_DIR = path.join(ROOT, 'k8s');

/** Stand-in for values Kubernetes fills in (fieldRef, resourceFieldRef, …). */
const DOWNWARD_API_VALUE = 'runnel-pod-0';

// ---------------------------------------------------------------------------
// Reading the manifests
// ---------------------------------------------------------------------------

type Env = Record<string, string>;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: Array<{ prefix?: string; configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { limits?: { memory?: string } };
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds?: number } } };
}

interface Manifest {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
  spec?: any;
}

function readDocs(file: string): Manifest[] {
  if (!existsSync(file)) return [];
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return (Array.isArray(docs) ? docs : []).filter((d) => d.contents !== null).map((d) => (d.toJS() ?? {}) as Manifest);
}

/** ConfigMap `data` / Secret `stringData` + `data` (base64) as the environment they become. */
function envOfDocs(docs: Manifest[], kind: 'ConfigMap' | 'Secret'): Env {
  const env: Env = {};
  for (const doc of docs.filter((d) => d.kind === kind)) {
    for (const [k, v] of Object.entries(doc.data ?? {})) env[k] = kind === 'Secret' ? Buffer.from(String(v), 'base64').toString('utf8') : String(v);
    for (const [k, v] of Object.entries(doc.stringData ?? {})) env[k] = String(v);
  }
  return env;
}

function containersOf(docs: Manifest[]): Container[] {
  return docs.filter((d) => d.kind === 'Deployment').flatMap((d) => (d.spec?.template?.spec?.containers ?? []) as Container[]);
}

/** The container `env` entries; values Kubernetes computes get a stand-in. */
function envOfContainers(containers: Container[]): Env {
  const env: Env = {};
  for (const c of containers) for (const e of c.env ?? []) env[e.name] = e.value ?? (e.valueFrom ? DOWNWARD_API_VALUE : '');
  return env;
}

interface ServiceEnv {
  service: string;
  title: string;
  configMap: Env;
  secret: Env;
  containerEnv: Env;
  deployments: Manifest[];
  /** envFrom prefixes, which become part of every name they import */
  prefixes: string[];
}

function serviceEnv(service: string): ServiceEnv {
  const dir = path.join(K8S_DIR, service);
  const deploymentDocs = readDocs(path.join(dir, 'deployment.yaml'));
  const containers = containersOf(deploymentDocs);
  return {
    service,
    title: `k8s/${service}`,
    configMap: envOfDocs(readDocs(path.join(dir, 'configmap.yaml')), 'ConfigMap'),
    secret: envOfDocs(readDocs(path.join(dir, 'secrets.yaml.example')), 'Secret'),
    containerEnv: envOfContainers(containers),
    deployments: deploymentDocs.filter((d) => d.kind === 'Deployment'),
    prefixes: containers.flatMap((c) => (c.envFrom ?? []).map((f) => f.prefix ?? '')).filter(Boolean),
  };
}

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

/** What the pod sees: ConfigMap, then Secret (envFrom order), then `env` (always wins). */
function podEnv(s: Pick<ServiceEnv, 'configMap' | 'secret' | 'containerEnv'>, withSecret: boolean): Env {
  return { ...s.configMap, ...(withSecret ? s.secret : {}), ...s.containerEnv };
}

const MEBI: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, K: 1000 / 1024 ** 2, M: 1e6 / 1024 ** 2, G: 1e9 / 1024 ** 2 };

/** A Kubernetes memory quantity in MiB (e.g. 256Mi, 1Gi, 512M). */
function mebibytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(quantity.trim());
  if (!m) throw new Error(`unsupported memory quantity ${quantity}`);
  return m[2] ? Number(m[1]) * MEBI[m[2]] : Number(m[1]) / 1024 ** 2;
}

function preStopSeconds(c: Container): number {
  const stop = c.lifecycle?.preStop;
  if (stop?.sleep?.seconds) return stop.sleep.seconds;
  const cmd = stop?.exec?.command ?? [];
  return cmd[0] === 'sleep' && /^\d+$/.test(cmd[1] ?? '') ? Number(cmd[1]) : 0;
}

/** Heap cap vs memory limit and shutdown vs grace period, per container ([] = they fit). */
function fitProblems(service: string, d: Manifest, envOf: (c: Container) => Env): string[] {
  const problems: string[] = [];
  const pod = d.spec.template.spec;
  const grace: number = pod.terminationGracePeriodSeconds ?? 30;
  for (const c of (pod.containers ?? []) as Container[]) {
    const env = envOf(c);
    const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '');
    const limit = c.resources?.limits?.memory;
    // V8's old space is only part of the RSS (code, young generation, buffers, native memory).
    if (heap && limit && Number(heap[1]) > mebibytes(limit) * 0.8) {
      problems.push(`${c.name}: --max-old-space-size=${heap[1]} leaves less than 20% of the ${limit} limit`);
    }
    const shutdownSeconds = (parseConfig(SERVICE_SCHEMAS[service], env).SHUTDOWN_TIMEOUT as number) / 1000;
    const needed = shutdownSeconds + preStopSeconds(c) + 5;
    if (needed > grace) {
      problems.push(`${c.name}: SHUTDOWN_TIMEOUT ${shutdownSeconds}s + preStop ${preStopSeconds(c)}s + 5s slack > terminationGracePeriodSeconds ${grace}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const serviceDirs = (existsSync(K8S_DIR) ? readdirSync(K8S_DIR, { withFileTypes: true }) : [])
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .filter((name) => ['configmap.yaml', 'secrets.yaml.example', 'deployment.yaml'].some((f) => existsSync(path.join(K8S_DIR, name, f))))
  .sort();
const services = serviceDirs.filter((s) => s in SERVICE_SCHEMAS).map(serviceEnv);

describe('k8s environment names and values match each service config schema', () => {
  test('every k8s/<service> with a ConfigMap, Secret template or Deployment has a schema here', () => {
    expect(serviceDirs.filter((s) => !(s in SERVICE_SCHEMAS))).toEqual([]);
    expect(services.map((s) => s.service)).toEqual(expect.arrayContaining(Object.keys(SERVICE_SCHEMAS)));
  });

  test.each(services)('$title: configmap.yaml names are accepted by the schema', ({ service, configMap }) => {
    expect(Object.keys(configMap).length).toBeGreaterThan(0);
    expect(unknownEnvNames(SERVICE_SCHEMAS[service], Object.keys(configMap))).toEqual([]);
  });

  test.each(services)('$title: secrets.yaml.example names are accepted by the schema', ({ service, secret }) => {
    expect(unknownEnvNames(SERVICE_SCHEMAS[service], Object.keys(secret))).toEqual([]);
  });

  test.each(services)('$title: deployment.yaml container env names are accepted by the schema', ({ service, containerEnv, prefixes }) => {
    // A prefix would rename every imported variable; none of the services reads prefixed names.
    expect(prefixes).toEqual([]);
    expect(unknownEnvNames(SERVICE_SCHEMAS[service], Object.keys(containerEnv))).toEqual([]);
  });

  test.each(services)('$title: the values parse (ConfigMap alone, and with the Secret template)', (s) => {
    expect(configProblems(SERVICE_SCHEMAS[s.service], podEnv(s, false))).toEqual([]);
    expect(configProblems(SERVICE_SCHEMAS[s.service], podEnv(s, true))).toEqual([]);
  });

  test.each(services)('$title: heap cap fits the memory limit; shutdown fits the grace period', ({ service, deployments, configMap, secret }) => {
    expect(deployments.length).toBeGreaterThan(0);
    expect(deployments.flatMap((d) => fitProblems(service, d, (c) => podEnv({ configMap, secret, containerEnv: envOfContainers([c]) }, true)))).toEqual([]);
  });

  describe('as the overlays render them (k8s/overlays/*: patched ConfigMaps and resources)', () => {
    const cases = OVERLAYS.flatMap((overlay) => Object.keys(SERVICE_SCHEMAS).map((service) => ({ overlay, service, title: `overlays/${overlay} ${service}` })));

    test.each(cases)('$title: names accepted, values parse, heap and shutdown fit', ({ overlay, service }) => {
      const docs = renderOverlay(overlay) as Manifest[];
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata?.name === service);
      if (!deployment) throw new Error(`no Deployment/${service}`);
      const secret = serviceEnv(service).secret;
      /** ConfigMaps from the rendering, the Secret from its template, then `env`: what the pod sees. */
      const envOf = (c: Container): Env => {
        let env: Env = {};
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) env = { ...env, ...envOfDocs(docs.filter((d) => d.kind === 'ConfigMap' && d.metadata?.name === from.configMapRef?.name), 'ConfigMap') };
          if (from.secretRef) env = { ...env, ...secret };
        }
        return { ...env, ...envOfContainers([c]) };
      };
      const containers = containersOf([deployment]);
      expect(containers.length).toBeGreaterThan(0);
      for (const c of containers) {
        const env = envOf(c);
        expect(unknownEnvNames(SERVICE_SCHEMAS[service], Object.keys(env))).toEqual([]);
        expect(configProblems(SERVICE_SCHEMAS[service], env)).toEqual([]);
      }
      expect(fitProblems(service, deployment, envOf)).toEqual([]);
    });
  });

  describe('the checks can fail (negative controls)', () => {
    const fixture = serviceEnv('change-reader');

    test('a deliberately misspelled name is reported', () => {
      const configMap = { ...fixture.configMap, BATCH_SIZ: '5000', LEASE_TTL: '10000' };
      expect(unknownEnvNames(SERVICE_SCHEMAS['change-reader'], Object.keys(configMap))).toEqual(['BATCH_SIZ', 'LEASE_TTL']);
    });

    test('a name another service reads is reported (the schemas are per service)', () => {
      expect(unknownEnvNames(SERVICE_SCHEMAS['change-reader'], ['S3_BUCKET', 'NUM_WORKERS'])).toEqual(['S3_BUCKET', 'NUM_WORKERS']);
      expect(unknownEnvNames(SERVICE_SCHEMAS['batch-writer'], ['MONGODB_URI', 'HOLDER_ID'])).toEqual(['MONGODB_URI', 'HOLDER_ID']);
      expect(unknownEnvNames(SERVICE_SCHEMAS['s3-uploader'], ['S3_BUCKET', 'NODE_OPTIONS', 'OTEL_EXPORTER_OTLP_ENDPOINT'])).toEqual([]);
    });

    test('a bad value is reported', () => {
      const env = podEnv({ ...fixture, configMap: { ...fixture.configMap, QUEUE_PREFIX: 'runnel', BATCH_SIZE: 'many' } }, true);
      const problems = configProblems(SERVICE_SCHEMAS['change-reader'], env).join('\n');
      expect(problems).toMatch(/QUEUE_PREFIX/);
      expect(problems).toMatch(/BATCH_SIZE/);
    });

    test('the s3-uploader refuses to start without S3_BUCKET', () => {
      const uploader = serviceEnv('s3-uploader');
      const { S3_BUCKET: _bucket, ...rest } = uploader.configMap;
      expect(configProblems(SERVICE_SCHEMAS['s3-uploader'], rest).join('\n')).toMatch(/S3_BUCKET/);
    });

    test('memory quantities convert to MiB', () => {
      expect([mebibytes('256Mi'), mebibytes('1Gi'), mebibytes('524288Ki')]).toEqual([256, 1024, 512]);
    });
  });
});
