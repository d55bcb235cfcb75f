/**
 * Validates every Kubernetes manifest under k8s/.
 *
 * - Every *.yaml / *.yml (and *.yaml.example / *.yml.example) file under k8s/,
 *   except kustomization.yaml, is parsed with `yaml` (all documents) and each
 *   document is validated against the kubernetes-models JSON schema of its
 *   apiVersion+kind (one jest test per document).
 * - kustomization.yaml files are checked separately (they parse, every
 *   resource exists, every manifest in the directory is referenced).
 * - Security baseline for every Deployment/StatefulSet/DaemonSet container.
 * - Coverage: every Deployment has a PodDisruptionBudget, and a HorizontalPodAutoscaler unless
 *   listed in NO_HPA (the change-reader: one lease holder reads, the other replica stands by).
 * - Cross-references: Service selector -> workload pods, Service targetPort ->
 *   containerPort, HPA scaleTargetRef, PDB selector, Ingress backends,
 *   non-optional ConfigMap/Secret references.
 *
 * kubernetes-models is ESM-only, which jest's CommonJS runtime cannot load, so
 * the schema validation runs in a Node child process
 * (tools/k8s/validate-manifests.mjs); see validateManifests() below.
 */
 
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const K8S_DIR = path.join(ROOT, 'k8s');
const VALIDATOR = path.join(__dirname, 'validate-manifests.mjs');

// ---------------------------------------------------------------------------
// Minimal structural types (we only read what the checks need)
// ---------------------------------------------------------------------------

type Labels = Record<string, string>;
interface Metadata {
  name?: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}
interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: Metadata;
  spec?: any;
  [key: string]: unknown;
}
interface ContainerPort {
  name?: string;
  containerPort: number;
}
interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  securityContext?: any;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  envFrom?: Array<{
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }>;
}

interface ValidationResult {
  status: 'valid' | 'invalid' | 'no-schema';
  model?: string | null;
  error?: string;
  reason?: string;
}

interface ManifestDoc {
  /** path relative to the repository root, with forward slashes */
  file: string;
  /** directory relative to the repository root (cross-reference scope) */
  dir: string;
  index: number;
  count: number;
  doc: Manifest;
  /** readable jest test title */
  title: string;
}

// ---------------------------------------------------------------------------
// Discovery and parsing
// ---------------------------------------------------------------------------

const MANIFEST_RE = /\.ya?ml(\.example)?$/;
const KUSTOMIZATION_RE = /^kustomization\.ya?ml$/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.isFile() ? [full] : [];
    });
}

const rel = (file: string): string => path.relative(ROOT, file).split(path.sep).join('/');

const allYamlFiles = walk(K8S_DIR).filter((f) => MANIFEST_RE.test(path.basename(f)));
const kustomizationFiles = allYamlFiles.filter((f) => KUSTOMIZATION_RE.test(path.basename(f)));
const manifestFiles = allYamlFiles.filter((f) => !KUSTOMIZATION_RE.test(path.basename(f)));

interface ParsedFile {
  file: string;
  errors: string[];
  docs: unknown[];
}

function parseYamlFile(file: string): ParsedFile {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
  // parseAllDocuments returns an EmptyStream (not an array) for empty files.
  const list = Array.isArray(docs) ? docs : [];
  const errors = list.flatMap((d) => d.errors.map((e) => e.message));
  // Skip empty documents (e.g. a trailing `---`).
  const values = list.filter((d) => d.contents !== null).map((d) => d.toJS({ maxAliasCount: 100 }));
  return { file: rel(file), errors, docs: values };
}

const parsedFiles = manifestFiles.map(parseYamlFile);

/** CRD API groups whose schemas are available when the package is installed. */
const CRD_MODEL_PACKAGES: Record<string, string> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

/** Test-title note for documents that only get structural checks. */
function schemaNote(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string' || !apiVersion.includes('/')) return '';
  const group = apiVersion.split('/')[0];
  if (!group.includes('.') || group.endsWith('.k8s.io')) return ''; // built-in
  const pkg = CRD_MODEL_PACKAGES[group];
  if (pkg && existsSync(path.join(ROOT, 'node_modules', ...pkg.split('/')))) return '';
  return ` (CRD, no schema${pkg ? `: ${pkg} not installed` : ''}; structural checks only)`;
}

const manifestDocs: ManifestDoc[] = parsedFiles.flatMap(({ file, docs }) =>
  docs.map((value, index) => {
    const doc = (value ?? {}) as Manifest;
    const kindName = `${doc.kind ?? '<no kind>'}/${doc.metadata?.name ?? '<no name>'}`;
    const where = docs.length > 1 ? `${file}#${index + 1}` : file;
    return {
      file,
      dir: path.posix.dirname(file),
      index,
      count: docs.length,
      doc,
      title: `${where} ${kindName}${schemaNote(doc.apiVersion)}`,
    };
  }),
);

// ---------------------------------------------------------------------------
// Schema validation (kubernetes-models, in a child process)
// ---------------------------------------------------------------------------

function nodeBinary(): string {
  // Prefer the workspace's pinned Node (the `node` devDependency) over
  // whichever node happens to run jest.
  const pinned = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}

/**
 * Validate plain manifest objects against the kubernetes-models schemas.
 * One child process per call; pass many documents at once.
 */
function validateManifests(docs: unknown[]): ValidationResult[] {
  const run = spawnSync(nodeBinary(), [VALIDATOR], {
    cwd: ROOT,
    input: JSON.stringify(docs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) {
    throw new Error(`validate-manifests.mjs exited with ${run.status}:\n${run.stderr}`);
  }
  const results = JSON.parse(run.stdout) as ValidationResult[];
  if (results.length !== docs.length) {
    throw new Error(`expected ${docs.length} results, got ${results.length}`);
  }
  return results;
}

/** Throws with a readable message unless the document is schema-valid. */
function expectSchemaValid(result: ValidationResult, doc: Manifest): void {
  if (result.status === 'invalid') {
    throw new Error(`${doc.kind}/${doc.metadata?.name} failed schema validation (${result.model}): ${result.error}`);
  }
}

// ---------------------------------------------------------------------------
// Helpers for the policy and cross-reference checks
// ---------------------------------------------------------------------------

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/**
 * Deployments that must NOT have a HorizontalPodAutoscaler, with the reason. Every other
 * Deployment needs one (and every Deployment a PodDisruptionBudget).
 */
const NO_HPA: Record<string, string> = {
  // One replica reads the stream (the lease holder), the other stands by: more replicas add no throughput.
  'change-reader': 'a stream is read by the single lease holder; extra replicas are standbys',
};

const isWorkload = (m: ManifestDoc): boolean => WORKLOAD_KINDS.has(m.doc.kind ?? '');
const ofKind = (kind: string) => (m: ManifestDoc) => m.doc.kind === kind;
const namespaceOf = (m: ManifestDoc): string => m.doc.metadata?.namespace ?? '';
/** Resources that can reference each other: same directory, same namespace. */
const sameScope = (a: ManifestDoc) => (b: ManifestDoc) => a.dir === b.dir && namespaceOf(a) === namespaceOf(b);

function podTemplate(m: ManifestDoc): { labels: Labels; spec: any } {
  const template = m.doc.spec?.template ?? {};
  return { labels: template.metadata?.labels ?? {}, spec: template.spec ?? {} };
}

function containersOf(m: ManifestDoc): Container[] {
  return (podTemplate(m).spec.containers ?? []) as Container[];
}

function selectorMatches(selector: Labels | undefined, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function labelSelectorMatches(
  selector: { matchLabels?: Labels; matchExpressions?: unknown[] } | undefined,
  labels: Labels,
): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length) {
    throw new Error('matchExpressions are not supported by this check; extend k8s-manifests.spec.ts');
  }
  return selectorMatches(selector.matchLabels, labels);
}

/** Does a Service/Ingress port reference (name or number) resolve to a container port? */
function containerHasPort(containers: Container[], target: string | number): boolean {
  const ports = containers.flatMap((c) => c.ports ?? []);
  return typeof target === 'number'
    ? ports.some((p) => p.containerPort === target)
    : ports.some((p) => p.name === target);
}

const workloadDocs = manifestDocs.filter(isWorkload);

const containerCases = workloadDocs.flatMap((w) => {
  const pod = podTemplate(w).spec;
  const regular = (pod.containers ?? []) as Container[];
  const init = (pod.initContainers ?? []) as Container[];
  return [
    ...regular.map((container) => ({ w, pod, container, init: false })),
    ...init.map((container) => ({ w, pod, container, init: true })),
  ].map((c) => ({ ...c, title: `${c.w.title} ${c.init ? 'initContainer' : 'container'} ${c.container.name}` }));
});

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('k8s manifests', () => {
  test('manifests were found under k8s/', () => {
    expect(manifestFiles.length).toBeGreaterThan(0);
    expect(manifestDocs.length).toBeGreaterThan(0);
    // *.yaml.example files are validated too.
    expect(manifestFiles.some((f) => f.endsWith('.example'))).toBe(true);
  });

  describe('YAML syntax', () => {
    test.each(parsedFiles.map((p) => ({ ...p, title: p.file })))('$title parses without errors', (p) => {
      expect(p.errors).toEqual([]);
      expect(p.docs.length).toBeGreaterThan(0);
    });
  });

  describe('schema (kubernetes-models)', () => {
    let results: ValidationResult[] = [];
    beforeAll(() => {
      results = validateManifests(manifestDocs.map((m) => m.doc));
    });

    test.each(manifestDocs.map((m, i) => ({ ...m, i })))('$title', ({ doc, i }) => {
      expect(typeof doc.apiVersion).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(doc.metadata?.name).toEqual(expect.stringMatching(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/));
      const result = results[i];
      expectSchemaValid(result, doc);
      if (result.status === 'no-schema') {
        // CRDs (e.g. monitoring.coreos.com ServiceMonitor/PrometheusRule) have
        // no schema unless @kubernetes-models/prometheus-operator is installed;
        // the structural checks above are all we can do for them.
        expect(doc.apiVersion).toContain('/');
        expect(result.reason).toMatch(/no schema|no kubernetes-models schema/);
      } else {
        expect(result.status).toBe('valid');
      }
    });

    test.each(manifestDocs)('$title has the standard app.kubernetes.io labels', ({ doc }) => {
      const labels = doc.metadata?.labels ?? {};
      expect(labels['app.kubernetes.io/part-of']).toBe('runnel');
      expect(labels['app.kubernetes.io/name']).toEqual(expect.any(String));
    });
  });

  describe('validation rejects broken manifests (negative controls)', () => {
    // Self-contained fixture, so these controls do not depend on k8s/ content.
    const good: Manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fixture', labels: { 'app.kubernetes.io/name': 'fixture' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'fixture' } },
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'fixture' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'example/app:1.0.0',
                ports: [{ name: 'http', containerPort: 8080 }],
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              },
            ],
          },
        },
      },
    };
    const deployment = (patch: (d: any) => void): Manifest => {
      const d = structuredClone(good) as any;
      patch(d);
      return d;
    };
    const broken: Array<{ title: string; doc: Manifest; error: RegExp }> = [
      {
        title: 'Deployment with replicas: "three"',
        doc: deployment((d) => (d.spec.replicas = 'three')),
        error: /spec\/replicas must be integer/,
      },
      {
        title: 'Deployment without spec.selector',
        doc: deployment((d) => delete d.spec.selector),
        error: /spec must have required property '?selector'?/,
      },
      {
        title: 'Deployment with a named containerPort given as a string',
        doc: deployment((d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 'http')),
        error: /containerPort must be integer/,
      },
      {
        title: 'Deployment with an invalid CPU quantity',
        doc: deployment((d) => (d.spec.template.spec.containers[0].resources.limits.cpu = 'lots')),
        error: /limits\/cpu/,
      },
      {
        title: 'Service with a port name where an integer is required',
        doc: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'broken' },
          spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 'http', targetPort: 8080 }] },
        },
        error: /spec\/ports\/0\/port must be integer/,
      },
      {
        title: 'ConfigMap with a non-string value',
        doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'broken' }, data: { PORT: 8080 } },
        error: /data\/PORT must be string/,
      },
      {
        title: 'misspelled built-in kind',
        doc: { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'broken' } },
        error: /unknown built-in kind/,
      },
    ];

    // One child process for all broken variants.
    let brokenResults: ValidationResult[] = [];
    beforeAll(() => {
      brokenResults = validateManifests(broken.map((b) => b.doc));
    });

    test.each(broken.map((b, i) => ({ ...b, i })))('rejects: $title', ({ doc, error, i }) => {
      const result = brokenResults[i];
      expect(result.status).toBe('invalid');
      expect(result.error).toMatch(error);
      expect(() => expectSchemaValid(result, doc)).toThrow(/failed schema validation/);
    });

    test('accepts the unmodified fixture Deployment (control)', () => {
      expect(validateManifests([good])[0]).toMatchObject({ status: 'valid' });
    });

    test('CRDs without an installed model package are reported as no-schema, not invalid', () => {
      const monitor = {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'fixture' },
        spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'metrics' }] },
      };
      expect(['valid', 'no-schema']).toContain(validateManifests([monitor])[0].status);
    });
  });

  describe('container security baseline (Deployment/StatefulSet/DaemonSet)', () => {
    test('there is at least one workload container to check', () => {
      expect(containerCases.length).toBeGreaterThan(0);
    });

    test.each(containerCases)('$title', ({ pod, container, init }) => {
      const podSc = pod.securityContext ?? {};
      const sc = container.securityContext ?? {};
      const problems: string[] = [];

      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push('runAsNonRoot must be true');
      const uid = sc.runAsUser ?? podSc.runAsUser;
      if (uid === 0) problems.push('runAsUser must not be 0');
      if (sc.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem must be true');
      if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation must be false');
      if (sc.privileged === true) problems.push('privileged must not be true');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push('capabilities.drop must include ALL');
      const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
        problems.push('seccompProfile.type must be RuntimeDefault (pod or container level)');
      }
      for (const kind of ['requests', 'limits'] as const) {
        for (const res of ['cpu', 'memory']) {
          if (container.resources?.[kind]?.[res] === undefined) problems.push(`resources.${kind}.${res} must be set`);
        }
      }
      if (!container.image) problems.push('image must be set');
      if (!init) {
        if (!container.livenessProbe) problems.push('livenessProbe must be set');
        if (!container.readinessProbe) problems.push('readinessProbe must be set');
      }
      expect(problems).toEqual([]);
    });
  });

  describe('cross-references', () => {
    const services = manifestDocs.filter(ofKind('Service')).filter((s) => s.doc.spec?.selector);

    test.each(services)('$title selects the pods of a workload and targets named container ports', (svc) => {
      const selector = svc.doc.spec.selector as Labels;
      const targets = workloadDocs.filter(sameScope(svc)).filter((w) => selectorMatches(selector, podTemplate(w).labels));
      expect(targets.map((w) => w.title)).not.toEqual([]);
      for (const port of svc.doc.spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const w of targets) {
          if (!containerHasPort(containersOf(w), target)) {
            throw new Error(`${svc.title} port ${port.name ?? port.port}: targetPort ${target} is not a containerPort of ${w.title}`);
          }
        }
      }
    });

    test.each(workloadDocs)('$title selector matches its own pod template labels', (w) => {
      expect(labelSelectorMatches(w.doc.spec?.selector, podTemplate(w).labels)).toBe(true);
    });

    test.each(manifestDocs.filter(ofKind('HorizontalPodAutoscaler')))('$title scaleTargetRef exists', (hpa) => {
      const ref = hpa.doc.spec.scaleTargetRef;
      const target = manifestDocs
        .filter(sameScope(hpa))
        .find((m) => m.doc.kind === ref.kind && m.doc.metadata?.name === ref.name && m.doc.apiVersion === ref.apiVersion);
      if (!target) throw new Error(`${hpa.title}: no ${ref.apiVersion} ${ref.kind}/${ref.name} in ${hpa.dir}`);
      expect(hpa.doc.spec.minReplicas).toBeLessThanOrEqual(hpa.doc.spec.maxReplicas);
    });

    test.each(workloadDocs.filter(ofKind('Deployment')))('$title has a PodDisruptionBudget and an HPA (unless exempt)', (w) => {
      const name = w.doc.metadata?.name ?? '';
      const inScope = manifestDocs.filter(sameScope(w));
      const hpas = inScope.filter(
        (m) => m.doc.kind === 'HorizontalPodAutoscaler' && m.doc.spec?.scaleTargetRef?.kind === 'Deployment' && m.doc.spec?.scaleTargetRef?.name === name,
      );
      const pdbs = inScope.filter((m) => m.doc.kind === 'PodDisruptionBudget' && labelSelectorMatches(m.doc.spec?.selector, podTemplate(w).labels));
      expect(pdbs.map((p) => p.title)).not.toEqual([]);
      if (name in NO_HPA) {
        // An HPA here would fight the fixed replica count the design depends on.
        expect(hpas.map((h) => h.title)).toEqual([]);
        expect(w.doc.spec?.replicas ?? 1).toBeGreaterThanOrEqual(2); // active + standby
      } else {
        expect(hpas.map((h) => h.title)).toHaveLength(1);
      }
    });

    test.each(manifestDocs.filter(ofKind('PodDisruptionBudget')))('$title selects a workload', (pdb) => {
      const selected = workloadDocs
        .filter(sameScope(pdb))
        .filter((w) => labelSelectorMatches(pdb.doc.spec.selector, podTemplate(w).labels));
      expect(selected.length).toBeGreaterThan(0);
      const minAvailable = pdb.doc.spec.minAvailable;
      if (typeof minAvailable === 'number') {
        // A PDB that can never be satisfied blocks node drains.
        for (const w of selected) {
          const replicas = w.doc.spec.replicas ?? 1;
          if (typeof replicas === 'number') expect(minAvailable).toBeLessThan(replicas);
        }
      }
    });

    test.each(manifestDocs.filter(ofKind('Ingress')))('$title backends are existing Service ports', (ing) => {
      const backends = (ing.doc.spec.rules ?? [])
        .flatMap((r: any) => r.http?.paths ?? [])
        .map((p: any) => p.backend.service);
      if (ing.doc.spec.defaultBackend?.service) backends.push(ing.doc.spec.defaultBackend.service);
      expect(backends.length).toBeGreaterThan(0);
      for (const backend of backends) {
        const svc = manifestDocs.filter(sameScope(ing)).find((m) => m.doc.kind === 'Service' && m.doc.metadata?.name === backend.name);
        if (!svc) throw new Error(`${ing.title}: backend Service/${backend.name} not found in ${ing.dir}`);
        const ports = (svc.doc.spec.ports ?? []) as Array<{ name?: string; port: number }>;
        const ok = backend.port.name !== undefined
          ? ports.some((p) => p.name === backend.port.name)
          : ports.some((p) => p.port === backend.port.number);
        expect(ok).toBe(true);
      }
      const tlsHosts = (ing.doc.spec.tls ?? []).flatMap((t: { hosts?: string[] }) => t.hosts ?? []);
      for (const rule of ing.doc.spec.rules ?? []) {
        if (rule.host) expect(tlsHosts).toContain(rule.host);
      }
    });

    test.each(workloadDocs)('$title references existing ConfigMaps/Secrets (unless optional)', (w) => {
      const missing: string[] = [];
      const inScope = manifestDocs.filter(sameScope(w));
      const exists = (kind: string, name: string) => inScope.some((m) => m.doc.kind === kind && m.doc.metadata?.name === name);
      for (const c of containersOf(w)) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef && !from.configMapRef.optional && !exists('ConfigMap', from.configMapRef.name)) {
            missing.push(`ConfigMap/${from.configMapRef.name}`);
          }
          // Secrets are usually created out of band; *.example files count.
          if (from.secretRef && !from.secretRef.optional && !exists('Secret', from.secretRef.name)) {
            missing.push(`Secret/${from.secretRef.name}`);
          }
        }
      }
      expect(missing).toEqual([]);
    });

    test.each(manifestDocs.filter(ofKind('Secret')))('$title is a template (only in *.example files)', (secret) => {
      // Real secrets must never be committed.
      expect(secret.file).toMatch(/\.example$/);
    });
  });

  describe('kustomization.yaml', () => {
    const cases = kustomizationFiles.map((file) => ({ file, title: rel(file) }));

    test('at least one kustomization exists', () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    test.each(cases)('$title parses and lists existing resources', ({ file }) => {
      const parsed = parseYamlFile(file);
      expect(parsed.errors).toEqual([]);
      expect(parsed.docs).toHaveLength(1);
      const k = parsed.docs[0] as { apiVersion?: string; kind?: string; resources?: unknown };
      expect(k.kind).toBe('Kustomization');
      expect(k.apiVersion).toMatch(/^kustomize\.config\.k8s\.io\//);
      expect(Array.isArray(k.resources)).toBe(true);
      const resources = k.resources as string[];
      const dir = path.dirname(file);
      for (const r of resources) {
        expect(typeof r).toBe('string');
        if (/^[a-z]+:\/\//.test(r) || r.startsWith('github.com/')) continue; // remote bases
        const target = path.resolve(dir, r);
        if (!existsSync(target)) throw new Error(`${rel(file)}: resource "${r}" does not exist`);
        if (statSync(target).isFile()) {
          expect(r).not.toMatch(/\.example$/);
        }
      }
      expect(new Set(resources).size).toBe(resources.length);
    });

    test.each(cases)('$title references every manifest in its directory', ({ file }) => {
      const k = parseYamlFile(file).docs[0];
      const referenced = new Set<string>();
      const collect = (v: unknown): void => {
        if (typeof v === 'string') referenced.add(path.normalize(v));
        else if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect(k);
      const siblings = readdirSync(path.dirname(file)).filter(
        (f) => /\.ya?ml$/.test(f) && !KUSTOMIZATION_RE.test(f),
      );
      expect(siblings.filter((f) => !referenced.has(f))).toEqual([]);
    });
  });
});
