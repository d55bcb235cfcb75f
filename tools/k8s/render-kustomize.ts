/**
 * A small Kustomize renderer for exactly the features k8s/ uses, so tests can render the overlays
 * on machines without kustomize (npm has none). Anything else in a kustomization.yaml throws:
 * nobody may come to rely on a feature this renderer would silently ignore. Where kubectl is
 * installed, tools/k8s/k8s-overlays.spec.ts renders with both and requires identical output.
 *
 * Supported, with kustomize v5's semantics and order (patches, namespace, replicas, images):
 * - resources: YAML files (several documents each) and directories with a kustomization.yaml;
 * - configMapGenerator: `files` (key = file name, or `key=path`) and `literals`, create behaviour,
 *   options.labels, and options.disableNameSuffixHash: true (the hash suffix is not implemented);
 * - patches: inline or `path`, strategic-merge (lists merged by the known merge keys only, in
 *   kustomize's order) or
 *   JSON 6902 (add, remove, replace), with a target of kind / name / group / version;
 * - namespace, replicas (Deployment / StatefulSet / ReplicaSet), images (newName, newTag, digest).
 *
 * Printing a rendering: node tools/dev/run-ts.mjs tools/k8s/render-overlay.ts k8s/overlays/production
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

export type K8sObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
};

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'configMapGenerator', 'patches', 'replicas', 'images']);

/** Kinds that are not namespaced (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService',
]);
const REPLICA_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Strategic-merge keys of the lists a patch may touch; any other list in a patch is refused. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

export class UnsupportedKustomizeError extends Error {}

function fail(where: string, message: string): never {
  throw new UnsupportedKustomizeError(`${where}: ${message}`);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(where: string, value: unknown, allowed: string[]): Record<string, unknown> {
  if (!isMap(value)) fail(where, `expected a mapping, got ${JSON.stringify(value)}`);
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length) fail(where, `unsupported field(s) ${extra.join(', ')} (supported: ${allowed.join(', ')})`);
  return value;
}

function parseDocs(text: string, where: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) if (d.errors.length) fail(where, d.errors.map((e) => e.message).join('; '));
  return list.filter((d) => d.contents !== null).map((d) => d.toJS() as K8sObject);
}

function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
}

const idOf = (o: K8sObject): string => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? '~'}/${o.metadata?.name}`;

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

function generateConfigMap(dir: string, spec: unknown, where: string): K8sObject {
  const g = onlyKeys(where, spec, ['name', 'files', 'literals', 'options', 'behavior']);
  if (typeof g.name !== 'string') fail(where, 'name is required');
  if (g.behavior !== undefined && g.behavior !== 'create') fail(where, `behavior ${String(g.behavior)} is not supported (only create)`);
  const options = onlyKeys(`${where}.options`, g.options ?? {}, ['disableNameSuffixHash', 'labels']);
  if (options.disableNameSuffixHash !== true) fail(where, 'options.disableNameSuffixHash: true is required (name hashing is not implemented)');
  const data: Record<string, string> = {};
  for (const entry of (g.files ?? []) as unknown[]) {
    if (typeof entry !== 'string') fail(where, 'files entries must be strings');
    const [key, file] = entry.includes('=') ? entry.split('=', 2) : [path.basename(entry), entry];
    const full = path.resolve(dir, file);
    if (!full.startsWith(dir + path.sep)) fail(where, `${file} is outside the kustomization directory`);
    data[key] = readFileSync(full, 'utf8');
  }
  for (const entry of (g.literals ?? []) as unknown[]) {
    if (typeof entry !== 'string' || !entry.includes('=')) fail(where, 'literals must be KEY=value strings');
    const i = entry.indexOf('=');
    data[entry.slice(0, i)] = entry.slice(i + 1);
  }
  const metadata: K8sObject['metadata'] = { name: g.name };
  if (options.labels !== undefined) metadata.labels = { ...(options.labels as Record<string, string>) };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}

// ---------------------------------------------------------------------------
// Patches
// ---------------------------------------------------------------------------

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
}

function splitApiVersion(apiVersion = ''): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function matchesTarget(o: K8sObject, t: Target): boolean {
  const { group, version } = splitApiVersion(o.apiVersion);
  return (t.kind === undefined || t.kind === o.kind)
    && (t.name === undefined || t.name === o.metadata?.name)
    && (t.group === undefined || t.group === group)
    && (t.version === undefined || t.version === version);
}

/** Strategic merge of `patch` into `base` (both plain values); returns the result. */
export function strategicMerge(base: unknown, patch: unknown, where: string, field = ''): unknown {
  if (isMap(patch)) {
    if ('$patch' in patch || Object.keys(patch).some((k) => k.startsWith('$'))) fail(where, 'strategic-merge directives ($patch, $setElementOrder, …) are not supported');
    const out: Record<string, unknown> = isMap(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = strategicMerge(out[k], v, where, k);
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key) fail(where, `list "${field}" in a strategic-merge patch: only ${Object.keys(MERGE_KEYS).join(', ')} are supported (use a JSON 6902 patch)`);
    const original = Array.isArray(base) ? base : [];
    // kustomize (kyaml) puts the patch's items first, in the patch's order, then the other
    // original items in their order: a patch of [b] on [a, b, c] gives [b, a, c].
    const merged = patch.map((item) => {
      if (!isMap(item) || item[key] === undefined) fail(where, `every "${field}" item needs its merge key ${key}`);
      const match = original.find((b) => isMap(b) && b[key] === item[key]);
      return strategicMerge(match, item, where, field);
    });
    const patched = new Set(patch.map((item) => (item as Record<string, unknown>)[key]));
    return [...merged, ...original.filter((b) => !(isMap(b) && patched.has(b[key])))];
  }
  return patch;
}

function pointer(p: unknown, where: string): string[] {
  if (typeof p !== 'string' || !p.startsWith('/')) fail(where, `bad JSON pointer ${JSON.stringify(p)}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 add / remove / replace on a copy of `doc`. */
export function jsonPatch(doc: K8sObject, ops: unknown[], where: string): K8sObject {
  const out = structuredClone(doc);
  for (const raw of ops) {
    const op = onlyKeys(where, raw, ['op', 'path', 'value']);
    if (!['add', 'remove', 'replace'].includes(op.op as string)) fail(where, `JSON 6902 op ${String(op.op)} is not supported (add, remove, replace)`);
    const parts = pointer(op.path, where);
    const last = parts.pop() as string;
    let parent: unknown = out;
    for (const p of parts) {
      parent = Array.isArray(parent) ? parent[Number(p)] : isMap(parent) ? parent[p] : undefined;
      if (parent === undefined) fail(where, `${String(op.path)}: ${p} does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (op.op !== 'add' && i >= parent.length)) fail(where, `${String(op.path)}: bad index`);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else if (op.op === 'replace') parent[i] = op.value;
      else parent.splice(i, 1);
    } else if (isMap(parent)) {
      if (op.op !== 'add' && !(last in parent)) fail(where, `${String(op.path)} does not exist (${String(op.op)})`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = op.value;
    } else {
      fail(where, `${String(op.path)}: parent is not a container`);
    }
  }
  return out;
}

function applyPatches(dir: string, objects: K8sObject[], patches: unknown, where: string): K8sObject[] {
  if (!Array.isArray(patches)) fail(where, 'patches must be a list');
  let result = objects;
  patches.forEach((raw, n) => {
    const at = `${where}.patches[${n}]`;
    const p = onlyKeys(at, raw, ['path', 'patch', 'target']);
    if ((p.path === undefined) === (p.patch === undefined)) fail(at, 'exactly one of path and patch is required');
    const text = p.path !== undefined ? readFileSync(path.resolve(dir, p.path as string), 'utf8') : (p.patch as string);
    const target = p.target === undefined ? undefined : (onlyKeys(`${at}.target`, p.target, ['group', 'version', 'kind', 'name']) as Target);
    if (target?.name !== undefined && /[\^$*+?()[\]{}|\\.]/.test(target.name)) fail(at, 'target.name patterns are not supported (exact names only)');
    const docs = parseDocs(text, at);
    const isJson6902 = docs.length === 1 && Array.isArray(docs[0]);
    if (isJson6902) {
      if (!target) fail(at, 'a JSON 6902 patch needs a target');
      const hits = result.filter((o) => matchesTarget(o, target));
      if (hits.length === 0) fail(at, `target ${JSON.stringify(target)} matches nothing`);
      result = result.map((o) => (matchesTarget(o, target) ? jsonPatch(o, docs[0] as unknown as unknown[], at) : o));
      return;
    }
    for (const patch of docs) {
      if (!isMap(patch)) fail(at, 'a strategic-merge patch must be a mapping');
      const t: Target = target ?? { kind: patch.kind, name: patch.metadata?.name, ...splitApiVersion(patch.apiVersion) };
      const hits = result.filter((o) => matchesTarget(o, t));
      if (hits.length === 0) fail(at, `patch for ${patch.kind}/${patch.metadata?.name} matches nothing`);
      result = result.map((o) => {
        if (!matchesTarget(o, t)) return o;
        // With a target the patch applies to each match whatever name and kind it carries.
        const body = { ...patch, apiVersion: o.apiVersion, kind: o.kind, metadata: { ...(patch.metadata ?? {}), name: o.metadata?.name } };
        if (o.metadata?.namespace !== undefined) body.metadata = { ...body.metadata, namespace: o.metadata.namespace };
        return strategicMerge(o, body, at) as K8sObject;
      });
    }
  });
  return result;
}

// ---------------------------------------------------------------------------
// Transformers
// ---------------------------------------------------------------------------

function setImages(node: unknown, images: Array<Record<string, unknown>>): void {
  if (Array.isArray(node)) {
    node.forEach((n) => setImages(n, images));
    return;
  }
  if (!isMap(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) {
      for (const c of v) {
        if (!isMap(c) || typeof c.image !== 'string') continue;
        const m = /^(.*?)(?::([^:/@]+))?(?:@(.+))?$/.exec(c.image) as RegExpExecArray;
        const image = images.find((i) => i.name === m[1]);
        if (!image) continue;
        const name = (image.newName as string | undefined) ?? m[1];
        if (image.digest !== undefined) c.image = `${name}@${image.digest as string}`;
        else if (image.newTag !== undefined) c.image = `${name}:${image.newTag as string}`;
        else c.image = `${name}${m[2] ? `:${m[2]}` : ''}${m[3] ? `@${m[3]}` : ''}`;
      }
    }
    setImages(v, images);
  }
}

// ---------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------

/** Renders the kustomization in `dir` (like `kubectl kustomize dir`), as plain objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const root = path.resolve(dir);
  const file = kustomizationFile(root);
  if (!file) fail(root, 'no kustomization.yaml');
  const where = path.relative(process.cwd(), file) || file;
  const k = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const unsupported = Object.keys(k ?? {}).filter((f) => !SUPPORTED_FIELDS.has(f));
  if (unsupported.length) fail(where, `unsupported kustomization field(s) ${unsupported.join(', ')}`);
  if (k.kind !== undefined && k.kind !== 'Kustomization') fail(where, `kind ${String(k.kind)}`);

  let objects: K8sObject[] = [];
  for (const r of (k.resources ?? []) as unknown[]) {
    if (typeof r !== 'string' || /^[a-z]+:\/\//.test(r) || r.startsWith('github.com/')) fail(where, `resource ${JSON.stringify(r)}: only local files and directories`);
    const full = path.resolve(root, r);
    if (!existsSync(full)) fail(where, `resource ${r} does not exist`);
    if (statSync(full).isDirectory()) objects.push(...renderKustomization(full));
    else {
      if (!full.startsWith(root + path.sep)) fail(where, `file ${r} is outside the kustomization directory (kustomize refuses it)`);
      objects.push(...parseDocs(readFileSync(full, 'utf8'), `${where}: ${r}`));
    }
  }
  ((k.configMapGenerator ?? []) as unknown[]).forEach((g, n) => objects.push(generateConfigMap(root, g, `${where}.configMapGenerator[${n}]`)));
  assertUnique(objects, where);

  if (k.patches !== undefined) objects = applyPatches(root, objects, k.patches, where);
  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') fail(where, 'namespace must be a string');
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind ?? '')) o.metadata = { ...o.metadata, namespace: k.namespace };
    }
  }
  for (const [n, raw] of ((k.replicas ?? []) as unknown[]).entries()) {
    const r = onlyKeys(`${where}.replicas[${n}]`, raw, ['name', 'count']);
    const hits = objects.filter((o) => REPLICA_KINDS.has(o.kind ?? '') && o.metadata?.name === r.name);
    if (hits.length === 0) fail(where, `replicas: no workload named ${String(r.name)}`);
    for (const o of hits) (o.spec as Record<string, unknown>).replicas = r.count;
  }
  if (k.images !== undefined) {
    const images = (k.images as unknown[]).map((i, n) => onlyKeys(`${where}.images[${n}]`, i, ['name', 'newName', 'newTag', 'digest']));
    setImages(objects, images);
  }
  assertUnique(objects, where);
  return objects;
}

function assertUnique(objects: K8sObject[], where: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = idOf(o);
    if (seen.has(id)) fail(where, `duplicate resource ${id}`);
    seen.add(id);
  }
}

/** The rendering as one YAML stream, like kustomize prints it. */
export function renderKustomizationYaml(dir: string): string {
  return renderKustomization(dir).map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

