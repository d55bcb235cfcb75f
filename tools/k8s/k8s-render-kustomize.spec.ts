/**
 * tools/k8s/render-kustomize.ts against kustomize itself. Where `kubectl` is on PATH (its built-in
 * kustomize), every kustomization under k8s/ and the fixtures below render to the same set of
 * documents with both; without kubectl that comparison is skipped with a notice, and the rest
 * (the renderer refuses what it does not implement; patch semantics) still runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { K8S_DIR, OVERLAYS, overlayDir } from './k8s-test-support';
import { jsonPatch, renderKustomization, strategicMerge, UnsupportedKustomizeError } from './render-kustomize';

function kubectlOnPath(): boolean {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}
const KUBECTL = kubectlOnPath();
if (!KUBECTL) {
  console.warn('NOTICE: kubectl is not on PATH: the renderer is NOT compared with kustomize on this machine (tools/k8s/k8s-render-kustomize.spec.ts).');
}

function kubectlKustomize(dir: string): unknown[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  return (Array.isArray(docs) ? docs : []).filter((d) => d.contents !== null).map((d) => d.toJS());
}

/** Key order does not matter, list order does. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}
const asSet = (docs: unknown[]): string[] => docs.map((d) => JSON.stringify(canonical(d))).sort();

const kustomizeIt = KUBECTL ? test : test.skip;

const dirs = [...OVERLAYS.map((o) => overlayDir(o)), ...['base', 'network-policies', 'observability'].map((d) => path.join(K8S_DIR, d))];

describe('render-kustomize.ts', () => {
  describe('renders k8s/ exactly like kustomize (kubectl kustomize)', () => {
    kustomizeIt.each(dirs.map((dir) => ({ dir, title: path.relative(path.dirname(K8S_DIR), dir) })))('$title', ({ dir }) => {
      const mine = asSet(renderKustomization(dir));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(asSet(kubectlKustomize(dir)));
    });
  });

  describe('fixtures', () => {
    let root: string;
    beforeAll(() => {
      root = mkdtempSync(path.join(tmpdir(), 'runnel-kustomize-'));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    /** Writes files into a fresh directory under the temp root and returns its path. */
    let n = 0;
    function fixture(files: Record<string, string>): string {
      const dir = path.join(root, `f${n++}`);
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), text);
      }
      return dir;
    }

    const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      initContainers:
        - name: init
          image: example/app:1.0
      containers:
        - name: app
          image: example/app:1.0
          env:
            - { name: A, value: "1" }
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
        - name: sidecar
          image: example/sidecar@sha256:0000000000000000000000000000000000000000000000000000000000000000
`;
    const supported = {
      'base/kustomization.yaml': 'resources: [deployment.yaml]\nconfigMapGenerator:\n  - name: gen\n    literals: [A=1, B=x=y]\n    files: [data.json, renamed=data.json]\n    options: { disableNameSuffixHash: true, labels: { l: "1" } }\n',
      'base/deployment.yaml': deployment,
      'base/data.json': '{"a": 1}\n',
      'overlay/kustomization.yaml': `namespace: ns
resources: [../base]
replicas: [{ name: app, count: 5 }]
images:
  - { name: example/app, newTag: "2.0" }
  - { name: example/sidecar, newName: registry/sidecar, newTag: "3" }
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: app }
      spec:
        template:
          spec:
            containers:
              - name: app
                env:
                  - { name: A, value: "2" }
                  - { name: B, value: "3" }
                resources: { limits: { cpu: 100m } }
              - name: extra
                image: example/extra:1
  - target: { kind: ConfigMap }
    patch: |-
      - { op: add, path: /data/C, value: "c" }
      - { op: remove, path: /data/A }
      - { op: replace, path: /metadata/labels/l, value: "2" }
`,
    };

    test('the supported features give the expected rendering', () => {
      const dir = fixture(supported);
      const docs = renderKustomization(path.join(dir, 'overlay')) as any[];
      const d = docs.find((o) => o.kind === 'Deployment');
      const cm = docs.find((o) => o.kind === 'ConfigMap');
      expect(d.metadata.namespace).toBe('ns');
      expect(d.spec.replicas).toBe(5);
      const containers = d.spec.template.spec.containers;
      // The patch's items first (app, extra), then the others (sidecar): kustomize's order.
      expect(containers.map((c: any) => [c.name, c.image])).toEqual([
        ['app', 'example/app:2.0'],
        ['extra', 'example/extra:1'],
        ['sidecar', 'registry/sidecar:3'],
      ]);
      expect(d.spec.template.spec.initContainers[0].image).toBe('example/app:2.0');
      expect(containers[0].env).toEqual([{ name: 'A', value: '2' }, { name: 'B', value: '3' }]);
      expect(containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gen', namespace: 'ns', labels: { l: '2' } }, data: { B: 'x=y', C: 'c', 'data.json': '{"a": 1}\n', renamed: '{"a": 1}\n' } });
    });

    kustomizeIt('…and kustomize agrees on the fixture', () => {
      const dir = path.join(fixture(supported), 'overlay');
      expect(asSet(renderKustomization(dir))).toEqual(asSet(kubectlKustomize(dir)));
    });

    const unsupported: Array<{ title: string; files: Record<string, string>; error: RegExp }> = [
      { title: 'commonLabels', files: { 'kustomization.yaml': 'resources: [d.yaml]\ncommonLabels: { a: b }\n', 'd.yaml': deployment }, error: /unsupported kustomization field\(s\) commonLabels/ },
      { title: 'namePrefix', files: { 'kustomization.yaml': 'resources: [d.yaml]\nnamePrefix: x-\n', 'd.yaml': deployment }, error: /namePrefix/ },
      { title: 'a remote resource', files: { 'kustomization.yaml': 'resources: [https://example.com/x.yaml]\n' }, error: /only local/ },
      { title: 'a generator with a name hash', files: { 'kustomization.yaml': 'configMapGenerator: [{ name: x, literals: [A=1] }]\n' }, error: /disableNameSuffixHash/ },
      { title: 'a generator merging into another', files: { 'kustomization.yaml': 'configMapGenerator: [{ name: x, behavior: merge, literals: [A=1], options: { disableNameSuffixHash: true } }]\n' }, error: /behavior merge/ },
      { title: 'a patch target by labelSelector', files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ target: { labelSelector: "a=b" }, patch: "- { op: remove, path: /spec/replicas }" }]\n', 'd.yaml': deployment }, error: /labelSelector/ },
      { title: 'a patch target name pattern', files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ target: { name: "ap.*" }, patch: "- { op: remove, path: /spec/replicas }" }]\n', 'd.yaml': deployment }, error: /patterns are not supported/ },
      { title: 'a JSON 6902 move', files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ target: { kind: Deployment }, patch: "- { op: move, from: /a, path: /b }" }]\n', 'd.yaml': deployment }, error: /unsupported field|move/ },
      { title: 'a $patch: delete directive', files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ patch: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: app}, $patch: delete}" }]\n', 'd.yaml': deployment }, error: /directives/ },
      {
        title: 'a strategic merge into a list without a known merge key',
        files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ patch: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: app}, spec: {template: {spec: {tolerations: [{key: a}]}}}}" }]\n', 'd.yaml': deployment },
        error: /list "tolerations"/,
      },
      { title: 'a patch that matches nothing', files: { 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ patch: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: other}}" }]\n', 'd.yaml': deployment }, error: /matches nothing/ },
      { title: 'replicas for a missing workload', files: { 'kustomization.yaml': 'resources: [d.yaml]\nreplicas: [{ name: other, count: 1 }]\n', 'd.yaml': deployment }, error: /no workload named other/ },
      { title: 'a duplicate resource', files: { 'kustomization.yaml': 'resources: [d.yaml, e.yaml]\n', 'd.yaml': deployment, 'e.yaml': deployment }, error: /duplicate resource/ },
      { title: 'an unknown images field', files: { 'kustomization.yaml': 'resources: [d.yaml]\nimages: [{ name: example/app, newTag: "2", tagSuffix: x }]\n', 'd.yaml': deployment }, error: /tagSuffix/ },
    ];

    test.each(unsupported)('refuses $title', ({ files, error }) => {
      const dir = fixture(files);
      expect(() => renderKustomization(dir)).toThrow(UnsupportedKustomizeError);
      expect(() => renderKustomization(dir)).toThrow(error);
    });
  });

  describe('patch semantics', () => {
    test('strategic merge: maps merge, null deletes, containers merge by name (patched first), scalars replace', () => {
      const base = { a: { b: 1, c: 2 }, containers: [{ name: 'w' }, { name: 'x', image: 'i', args: ['--a'] }] };
      expect(strategicMerge(base, { a: { c: null, d: 3 }, containers: [{ name: 'x', image: 'j' }] }, 'test')).toEqual({
        a: { b: 1, d: 3 },
        containers: [{ name: 'x', image: 'j', args: ['--a'] }, { name: 'w' }],
      });
    });

    test('JSON 6902: add appends with "-", escapes ~1, refuses a missing path', () => {
      const doc = { kind: 'ConfigMap', metadata: { annotations: {} }, spec: { list: [1] } } as any;
      const out = jsonPatch(doc, [{ op: 'add', path: '/spec/list/-', value: 2 }, { op: 'add', path: '/metadata/annotations/a~1b', value: 'x' }], 'test') as any;
      expect(out.spec.list).toEqual([1, 2]);
      expect(out.metadata.annotations).toEqual({ 'a/b': 'x' });
      expect(doc.spec.list).toEqual([1]);
      expect(() => jsonPatch(doc, [{ op: 'replace', path: '/spec/missing', value: 1 }], 'test')).toThrow(/does not exist/);
    });
  });
});
