/**
 * The Kubernetes manifests as they are deployed: both overlays (k8s/overlays/dev, production)
 * rendered with tools/k8s/render-kustomize.ts, plus the Secret templates (*.yaml.example).
 *
 * - Every YAML file under k8s/ parses; every kustomization lists existing resources and every
 *   manifest in its directory.
 * - Every rendered document passes the kubernetes-models schema (ServiceMonitor / PrometheusRule
 *   through @kubernetes-models/prometheus-operator) and is in the namespace `runnel`.
 * - Security: every container and initContainer of every rendered workload runs as uid 1000,
 *   non-root, read-only root filesystem, all capabilities dropped, no privilege escalation,
 *   seccomp RuntimeDefault; mutated copies show the checker catches each one missing.
 * - Cross-references within each overlay: Service selector -> pods and targetPort -> containerPort,
 *   HPA target, PDB selector, Ingress backends, ConfigMap/Secret references; every Deployment has
 *   a PDB and an HPA (except the change-reader: one lease holder reads, a standby waits).
 * - What the overlays change: dev one replica, debug logs, `dev` images; production pinned tags.
 *
 * That the renderer matches kustomize itself is checked in k8s-render-kustomize.spec.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  isWorkload,
  K8S_DIR,
  type Labels,
  type Manifest,
  NAMESPACE,
  OVERLAYS,
  type OverlayName,
  podLabels,
  podSpecOf,
  renderOverlay,
  ROOT,
  securityProblems,
  selects,
  SERVICES,
  type ValidationResult,
  validateManifests,
} from './k8s-test-support';

interface Container {
  name: string;
  image?: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  envFrom?: Array<{ configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }>;
}

/** A rendered document (or a Secret template), with where it came from. */
interface Doc {
  /** `overlays/dev`, `overlays/production`, or the template's file */
  source: string;
  overlay?: OverlayName;
  doc: Manifest;
  title: string;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

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
const KUSTOMIZATION_RE = /^kustomization\.ya?ml$/;
const yamlFiles = walk(K8S_DIR).filter((f) => /\.ya?ml(\.example)?$/.test(f));
const kustomizationFiles = yamlFiles.filter((f) => KUSTOMIZATION_RE.test(path.basename(f)));
const templateFiles = yamlFiles.filter((f) => f.endsWith('.example'));

function parseYamlFile(file: string): { file: string; errors: string[]; docs: unknown[] } {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  return {
    file: rel(file),
    errors: list.flatMap((d) => d.errors.map((e) => e.message)),
    docs: list.filter((d) => d.contents !== null).map((d) => d.toJS({ maxAliasCount: 100 })),
  };
}

// ---------------------------------------------------------------------------
// Rendered documents
// ---------------------------------------------------------------------------

const kindName = (d: Manifest): string => `${d.kind ?? '<no kind>'}/${d.metadata?.name ?? '<no name>'}`;

const renderedDocs: Doc[] = OVERLAYS.flatMap((overlay) =>
  renderOverlay(overlay).map((doc) => ({ source: `overlays/${overlay}`, overlay, doc, title: `overlays/${overlay} ${kindName(doc)}` })),
);
const templateDocs: Doc[] = templateFiles.flatMap((file) =>
  parseYamlFile(file).docs.map((doc) => ({ source: rel(file), doc: doc as Manifest, title: `${rel(file)} ${kindName(doc as Manifest)}` })),
);
const allDocs = [...renderedDocs, ...templateDocs];

const inOverlay = (overlay: OverlayName | undefined) => (d: Doc) => d.overlay === overlay;
const ofKind = (kind: string) => (d: Doc) => d.doc.kind === kind;
const workloads = renderedDocs.filter((d) => isWorkload(d.doc));
const containersOf = (d: Doc): Container[] => (podSpecOf(d.doc)?.containers ?? []) as Container[];
const byName = (docs: Doc[], kind: string, name: string): Doc | undefined => docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name);

function containerHasPort(containers: Container[], target: string | number): boolean {
  const ports = containers.flatMap((c) => c.ports ?? []);
  return typeof target === 'number' ? ports.some((p) => p.containerPort === target) : ports.some((p) => p.name === target);
}

/** Deployments that must NOT have a HorizontalPodAutoscaler, with the reason. */
const NO_HPA: Record<string, string> = {
  'change-reader': 'a stream is read by the single lease holder; extra replicas are standbys',
};

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('k8s manifests', () => {
  test('both overlays render and hold every service', () => {
    for (const overlay of OVERLAYS) {
      const docs = renderedDocs.filter(inOverlay(overlay));
      for (const s of SERVICES) {
        for (const kind of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget', 'NetworkPolicy']) {
          const name = kind === 'ConfigMap' ? `${s}-config` : s;
          if (!byName(docs, kind, name)) throw new Error(`overlays/${overlay}: no ${kind}/${name}`);
        }
      }
      expect(byName(docs, 'Namespace', NAMESPACE)).toBeDefined();
    }
    expect(templateDocs.length).toBeGreaterThan(0);
  });

  describe('YAML syntax', () => {
    test.each(yamlFiles.map((f) => ({ file: f, title: rel(f) })))('$title parses without errors', ({ file }) => {
      const p = parseYamlFile(file);
      expect(p.errors).toEqual([]);
      expect(p.docs.length).toBeGreaterThan(0);
    });
  });

  describe('schema (kubernetes-models)', () => {
    let results: ValidationResult[] = [];
    beforeAll(() => {
      results = validateManifests(allDocs.map((d) => d.doc));
    });

    test.each(allDocs.map((d, i) => ({ ...d, i })))('$title', ({ doc, i }) => {
      expect(typeof doc.apiVersion).toBe('string');
      expect(doc.metadata?.name).toEqual(expect.stringMatching(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/));
      const result = results[i];
      if (result.status !== 'valid') throw new Error(`${kindName(doc)}: ${result.status} (${result.model ?? ''}): ${result.error ?? result.reason}`);
    });

    test.each(allDocs)('$title has the standard app.kubernetes.io labels', ({ doc }) => {
      const labels = doc.metadata?.labels ?? {};
      expect(labels['app.kubernetes.io/part-of']).toBe('runnel');
      expect(labels['app.kubernetes.io/name']).toEqual(expect.any(String));
    });

    test.each(renderedDocs)(`$title is in the namespace ${NAMESPACE}`, ({ doc }) => {
      // The Namespace itself is cluster-scoped.
      if (doc.kind === 'Namespace') expect(doc.metadata?.namespace).toBeUndefined();
      else expect(doc.metadata?.namespace).toBe(NAMESPACE);
    });

    test('the namespace enforces the Pod Security "restricted" profile', () => {
      for (const overlay of OVERLAYS) {
        const ns = byName(renderedDocs.filter(inOverlay(overlay)), 'Namespace', NAMESPACE) as Doc;
        expect(ns.doc.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      }
    });
  });

  describe('validation rejects broken manifests (negative controls)', () => {
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
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'fixture' }, spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'metrics' }] } };
    const rule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'fixture' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '5m' }] }] } };
    const broken: Array<{ title: string; doc: Manifest; error: RegExp }> = [
      { title: 'Deployment with replicas: "three"', doc: deployment((d) => (d.spec.replicas = 'three')), error: /spec\/replicas must be integer/ },
      { title: 'Deployment without spec.selector', doc: deployment((d) => delete d.spec.selector), error: /spec must have required property '?selector'?/ },
      {
        title: 'Deployment with a named containerPort given as a string',
        doc: deployment((d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 'http')),
        error: /containerPort must be integer/,
      },
      { title: 'Deployment with an invalid CPU quantity', doc: deployment((d) => (d.spec.template.spec.containers[0].resources.limits.cpu = 'lots')), error: /limits\/cpu/ },
      {
        title: 'Service with a port name where an integer is required',
        doc: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'broken' }, spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 'http', targetPort: 8080 }] } },
        error: /spec\/ports\/0\/port must be integer/,
      },
      { title: 'ConfigMap with a non-string value', doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'broken' }, data: { PORT: 8080 } }, error: /data\/PORT must be string/ },
      { title: 'misspelled built-in kind', doc: { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'broken' } }, error: /unknown kind/ },
      { title: 'misspelled prometheus-operator kind', doc: { ...monitor, kind: 'ServiceMonitr' }, error: /unknown kind/ },
      { title: 'ServiceMonitor without endpoints', doc: { ...monitor, spec: { selector: {} } }, error: /endpoints/ },
      {
        title: 'PrometheusRule with `for: 5 minutes`',
        doc: { ...rule, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '5 minutes' }] }] } },
        error: /for must match pattern/,
      },
    ];

    let brokenResults: ValidationResult[] = [];
    let controls: ValidationResult[] = [];
    beforeAll(() => {
      brokenResults = validateManifests(broken.map((b) => b.doc));
      controls = validateManifests([good, monitor, rule]);
    });

    test.each(broken.map((b, i) => ({ ...b, i })))('rejects: $title', ({ error, i }) => {
      expect(brokenResults[i].status).toBe('invalid');
      expect(brokenResults[i].error).toMatch(error);
    });

    test('accepts the unmodified fixtures (controls)', () => {
      expect(controls.map((r) => r.status)).toEqual(['valid', 'valid', 'valid']);
    });
  });

  describe('container security (every container and initContainer of every rendered workload)', () => {
    test('there are workloads to check, in both overlays', () => {
      for (const overlay of OVERLAYS) expect(workloads.filter(inOverlay(overlay)).length).toBeGreaterThanOrEqual(SERVICES.length);
    });

    test.each(workloads)('$title', ({ doc }) => {
      expect(securityProblems(podSpecOf(doc))).toEqual([]);
    });

    test.each(workloads)('$title: resources, image and probes', (w) => {
      const problems: string[] = [];
      const pod = podSpecOf(w.doc);
      const all = [...(pod.containers ?? []), ...(pod.initContainers ?? [])].map((c: Container) => ({ c, init: (pod.initContainers ?? []).includes(c) }));
      for (const { c, init } of all) {
        for (const kind of ['requests', 'limits'] as const) {
          for (const res of ['cpu', 'memory']) if (c.resources?.[kind]?.[res] === undefined) problems.push(`${c.name}: resources.${kind}.${res} must be set`);
        }
        if (!c.image) problems.push(`${c.name}: image must be set`);
        if (!init && !c.livenessProbe) problems.push(`${c.name}: livenessProbe must be set`);
        if (!init && !c.readinessProbe) problems.push(`${c.name}: readinessProbe must be set`);
      }
      if (pod.automountServiceAccountToken !== false) problems.push('automountServiceAccountToken must be false (no service needs the API)');
      expect(problems).toEqual([]);
    });

    describe('the checker fails when one setting is dropped (mutated copies)', () => {
      const original = podSpecOf(workloads.find((w) => w.doc.metadata?.name === 'gateway')?.doc as Manifest);
      const withInit = (pod: any) => ({ ...pod, initContainers: [structuredClone(pod.containers[0])].map((c) => ({ ...c, name: 'init' })) });
      const mutations: Array<{ title: string; mutate: (pod: any) => void; problem: RegExp }> = [
        { title: 'runAsNonRoot removed everywhere', mutate: (p) => { delete p.securityContext.runAsNonRoot; delete p.containers[0].securityContext.runAsNonRoot; }, problem: /runAsNonRoot/ },
        { title: 'container runAsUser 0 (overrides the pod)', mutate: (p) => (p.containers[0].securityContext.runAsUser = 0), problem: /runAsUser must be 1000/ },
        { title: 'runAsUser removed everywhere', mutate: (p) => { delete p.securityContext.runAsUser; delete p.containers[0].securityContext.runAsUser; }, problem: /runAsUser/ },
        { title: 'readOnlyRootFilesystem false', mutate: (p) => (p.containers[0].securityContext.readOnlyRootFilesystem = false), problem: /readOnlyRootFilesystem/ },
        { title: 'allowPrivilegeEscalation removed', mutate: (p) => delete p.containers[0].securityContext.allowPrivilegeEscalation, problem: /allowPrivilegeEscalation/ },
        { title: 'capabilities.drop emptied', mutate: (p) => (p.containers[0].securityContext.capabilities.drop = []), problem: /capabilities.drop/ },
        { title: 'capability NET_ADMIN added', mutate: (p) => (p.containers[0].securityContext.capabilities.add = ['NET_ADMIN']), problem: /capabilities.add/ },
        { title: 'seccomp Unconfined on the container', mutate: (p) => (p.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }), problem: /seccompProfile/ },
        { title: 'seccomp removed everywhere', mutate: (p) => { delete p.securityContext.seccompProfile; delete p.containers[0].securityContext.seccompProfile; }, problem: /seccompProfile/ },
        { title: 'privileged true', mutate: (p) => (p.containers[0].securityContext.privileged = true), problem: /privileged/ },
        { title: 'an initContainer without a securityContext', mutate: (p) => delete p.initContainers[0].securityContext, problem: /^init: / },
      ];

      test('the unmutated copy (with an initContainer) passes (control)', () => {
        expect(securityProblems(withInit(structuredClone(original)))).toEqual([]);
      });

      test.each(mutations)('$title', ({ mutate, problem }) => {
        const pod = withInit(structuredClone(original));
        mutate(pod);
        const problems = securityProblems(pod);
        expect(problems.filter((p) => problem.test(p))).not.toEqual([]);
        // The cached rendering stays untouched.
        expect(securityProblems(original)).toEqual([]);
      });
    });
  });

  describe('cross-references (within each overlay)', () => {
    const scope = (d: Doc): Doc[] => renderedDocs.filter(inOverlay(d.overlay));
    const services = renderedDocs.filter(ofKind('Service'));

    test.each(services)('$title selects the pods of a workload and targets named container ports', (svc) => {
      const targets = scope(svc).filter((w) => isWorkload(w.doc) && selects({ matchLabels: svc.doc.spec.selector as Labels }, podLabels(w.doc)));
      expect(targets.map((w) => w.title)).not.toEqual([]);
      for (const port of svc.doc.spec.ports ?? []) {
        for (const w of targets) {
          if (!containerHasPort(containersOf(w), port.targetPort ?? port.port)) throw new Error(`${svc.title} port ${port.name}: targetPort ${port.targetPort} is not a containerPort of ${w.title}`);
        }
      }
    });

    test.each(workloads)('$title selector matches its own pod template labels', (w) => {
      expect(selects(w.doc.spec?.selector, podLabels(w.doc))).toBe(true);
    });

    test.each(renderedDocs.filter(ofKind('HorizontalPodAutoscaler')))('$title scaleTargetRef exists', (hpa) => {
      const ref = hpa.doc.spec.scaleTargetRef;
      const target = scope(hpa).find((m) => m.doc.kind === ref.kind && m.doc.metadata?.name === ref.name && m.doc.apiVersion === ref.apiVersion);
      if (!target) throw new Error(`${hpa.title}: no ${ref.apiVersion} ${ref.kind}/${ref.name}`);
      expect(hpa.doc.spec.minReplicas).toBeLessThanOrEqual(hpa.doc.spec.maxReplicas);
    });

    test.each(workloads.filter(ofKind('Deployment')))('$title has a PodDisruptionBudget and an HPA (unless exempt)', (w) => {
      const name = w.doc.metadata?.name ?? '';
      const hpas = scope(w).filter((m) => m.doc.kind === 'HorizontalPodAutoscaler' && m.doc.spec?.scaleTargetRef?.kind === 'Deployment' && m.doc.spec?.scaleTargetRef?.name === name);
      const pdbs = scope(w).filter((m) => m.doc.kind === 'PodDisruptionBudget' && selects(m.doc.spec?.selector, podLabels(w.doc)));
      expect(pdbs.map((p) => p.title)).toHaveLength(1);
      if (name in NO_HPA) {
        // An HPA would fight the fixed replica count the design depends on.
        expect(hpas.map((h) => h.title)).toEqual([]);
        // In production: the active reader plus a standby.
        if (w.overlay === 'production') expect(w.doc.spec?.replicas).toBeGreaterThanOrEqual(2);
      } else {
        expect(hpas.map((h) => h.title)).toHaveLength(1);
      }
    });

    test.each(renderedDocs.filter(ofKind('PodDisruptionBudget')))('$title selects a workload and never blocks a drain', (pdb) => {
      const selected = scope(pdb).filter((w) => isWorkload(w.doc) && selects(pdb.doc.spec.selector, podLabels(w.doc)));
      expect(selected.length).toBeGreaterThan(0);
      const { minAvailable, maxUnavailable } = pdb.doc.spec;
      for (const w of selected) {
        if (typeof minAvailable === 'number') expect(minAvailable).toBeLessThan(w.doc.spec.replicas ?? 1);
        if (typeof maxUnavailable === 'number') expect(maxUnavailable).toBeGreaterThan(0);
      }
    });

    test.each(renderedDocs.filter(ofKind('Ingress')))('$title backends are existing Service ports', (ing) => {
      const backends = (ing.doc.spec.rules ?? []).flatMap((r: any) => r.http?.paths ?? []).map((p: any) => p.backend.service);
      expect(backends.length).toBeGreaterThan(0);
      for (const backend of backends) {
        const svc = byName(scope(ing), 'Service', backend.name);
        if (!svc) throw new Error(`${ing.title}: backend Service/${backend.name} not found`);
        const ports = (svc.doc.spec.ports ?? []) as Array<{ name?: string; port: number }>;
        expect(backend.port.name !== undefined ? ports.some((p) => p.name === backend.port.name) : ports.some((p) => p.port === backend.port.number)).toBe(true);
      }
      const tlsHosts = (ing.doc.spec.tls ?? []).flatMap((t: { hosts?: string[] }) => t.hosts ?? []);
      for (const rule of ing.doc.spec.rules ?? []) if (rule.host) expect(tlsHosts).toContain(rule.host);
    });

    test.each(workloads)('$title references existing ConfigMaps and Secrets (or Secret templates)', (w) => {
      const missing: string[] = [];
      for (const c of containersOf(w)) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef && !from.configMapRef.optional && !byName(scope(w), 'ConfigMap', from.configMapRef.name)) missing.push(`ConfigMap/${from.configMapRef.name}`);
          // Secrets are created out of band, from the *.yaml.example templates.
          if (from.secretRef && !from.secretRef.optional && !byName(templateDocs, 'Secret', from.secretRef.name)) missing.push(`Secret/${from.secretRef.name}`);
        }
      }
      expect(missing).toEqual([]);
    });

    test('no Secret is rendered; Secret templates are only in *.example files', () => {
      // Real secrets must never be committed.
      expect(renderedDocs.filter(ofKind('Secret')).map((d) => d.title)).toEqual([]);
      for (const t of templateDocs) expect(t.source).toMatch(/\.example$/);
    });
  });

  describe('what each overlay sets', () => {
    const deployments = (overlay: OverlayName) => renderedDocs.filter(inOverlay(overlay)).filter(ofKind('Deployment'));
    const images = (overlay: OverlayName) => deployments(overlay).flatMap((d) => [...(podSpecOf(d.doc).containers ?? []), ...(podSpecOf(d.doc).initContainers ?? [])].map((c: Container) => c.image));

    test('dev: one replica each, `dev` images, debug logs, HPAs down to 1', () => {
      expect(deployments('dev').map((d) => [d.doc.metadata?.name, d.doc.spec.replicas])).toEqual(expect.arrayContaining(SERVICES.map((s) => [s, 1])));
      expect(images('dev').every((i) => /^runnel\/[a-z0-9-]+:dev$/.test(i ?? ''))).toBe(true);
      const configMaps = renderedDocs.filter(inOverlay('dev')).filter(ofKind('ConfigMap'));
      for (const s of SERVICES) expect((byName(configMaps, 'ConfigMap', `${s}-config`)?.doc as any).data.LOG_LEVEL).toBe('debug');
      for (const h of renderedDocs.filter(inOverlay('dev')).filter(ofKind('HorizontalPodAutoscaler'))) expect(h.doc.spec.minReplicas).toBe(1);
    });

    test('production: images pinned to a version, replicas and resources as in k8s/<service>/, info logs', () => {
      expect(images('production').every((i) => /^runnel\/[a-z0-9-]+:\d+\.\d+\.\d+$/.test(i ?? ''))).toBe(true);
      for (const d of deployments('production')) {
        const source = parseYamlFile(path.join(K8S_DIR, d.doc.metadata?.name ?? '', 'deployment.yaml')).docs[0] as Manifest;
        expect(d.doc.spec.replicas).toBe(source.spec.replicas);
        expect(podSpecOf(d.doc).containers[0].resources).toEqual(podSpecOf(source).containers[0].resources);
      }
      const configMaps = renderedDocs.filter(inOverlay('production')).filter(ofKind('ConfigMap'));
      for (const s of SERVICES) expect((byName(configMaps, 'ConfigMap', `${s}-config`)?.doc as any).data.LOG_LEVEL).toBe('info');
    });

    test('dev requests less CPU and memory than production', () => {
      for (const s of SERVICES) {
        const [dev, prod] = (['dev', 'production'] as const).map((o) => podSpecOf((byName(deployments(o), 'Deployment', s) as Doc).doc).containers[0].resources.requests);
        expect(dev).not.toEqual(prod);
      }
    });
  });

  describe('kustomization.yaml files', () => {
    const cases = kustomizationFiles.map((file) => ({ file, title: rel(file) }));

    test('the base, both overlays, the network policies, the monitoring and every service have one', () => {
      const dirs = cases.map((c) => path.dirname(c.title));
      expect(dirs).toEqual(expect.arrayContaining(['k8s/base', 'k8s/overlays/dev', 'k8s/overlays/production', 'k8s/network-policies', 'k8s/observability', ...SERVICES.map((s) => `k8s/${s}`)]));
    });

    test.each(cases)('$title parses and lists existing resources', ({ file }) => {
      const parsed = parseYamlFile(file);
      expect(parsed.errors).toEqual([]);
      const k = parsed.docs[0] as { apiVersion?: string; kind?: string; resources?: unknown };
      expect(k.kind).toBe('Kustomization');
      expect(k.apiVersion).toMatch(/^kustomize\.config\.k8s\.io\//);
      const resources = k.resources as string[];
      expect(Array.isArray(resources)).toBe(true);
      for (const r of resources) {
        const target = path.resolve(path.dirname(file), r);
        if (!existsSync(target)) throw new Error(`${rel(file)}: resource "${r}" does not exist`);
        if (statSync(target).isFile()) expect(r).not.toMatch(/\.example$/);
      }
      expect(new Set(resources).size).toBe(resources.length);
    });

    test.each(cases)('$title references every manifest in its directory', ({ file }) => {
      const referenced = new Set<string>();
      const collect = (v: unknown): void => {
        if (typeof v === 'string') referenced.add(path.normalize(v));
        else if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect(parseYamlFile(file).docs[0]);
      const siblings = readdirSync(path.dirname(file)).filter((f) => /\.ya?ml$/.test(f) && !KUSTOMIZATION_RE.test(f));
      expect(siblings.filter((f) => !referenced.has(f))).toEqual([]);
    });
  });
});
