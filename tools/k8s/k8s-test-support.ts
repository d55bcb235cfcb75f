/**
 * Shared by the tools/k8s specs: the rendered overlays, the schema validator (a child process:
 * kubernetes-models is ESM-only, which jest's CommonJS runtime cannot load) and the container
 * security checker.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are arbitrary YAML; the checks read what they need */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type K8sObject, renderKustomization } from './render-kustomize';

export const ROOT = path.resolve(__dirname, '..', '..');
export const K8S_DIR = path.join(ROOT, 'k8s');
export const OVERLAYS = ['dev', 'production'] as const;
export type OverlayName = (typeof OVERLAYS)[number];
export const NAMESPACE = 'runnel';
/** The services, by Deployment / Service / k8s/<dir> name. */
export const SERVICES = ['gateway', 'change-reader', 'batch-writer', 's3-uploader'] as const;

export type Labels = Record<string, string>;
export type Manifest = K8sObject & { metadata?: { name?: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> }; spec?: any };

export const overlayDir = (overlay: OverlayName): string => path.join(K8S_DIR, 'overlays', overlay);

const rendered = new Map<OverlayName, Manifest[]>();
/** The overlay as tools/k8s/render-kustomize.ts renders it (cached; callers must not mutate). */
export function renderOverlay(overlay: OverlayName): Manifest[] {
  let docs = rendered.get(overlay);
  if (!docs) rendered.set(overlay, (docs = renderKustomization(overlayDir(overlay)) as Manifest[]));
  return docs;
}

export function nodeBinary(): string {
  // The workspace's pinned Node (the `node` devDependency), not whichever node runs jest.
  const pinned = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}

export interface ValidationResult {
  status: 'valid' | 'invalid' | 'no-schema';
  model?: string | null;
  error?: string;
  reason?: string;
}

/** Validates plain manifests against the kubernetes-models schemas; one child process per call. */
export function validateManifests(docs: unknown[]): ValidationResult[] {
  const run = spawnSync(nodeBinary(), [path.join(__dirname, 'validate-manifests.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(docs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`validate-manifests.mjs exited with ${run.status}:\n${run.stderr}`);
  const results = JSON.parse(run.stdout) as ValidationResult[];
  if (results.length !== docs.length) throw new Error(`expected ${docs.length} results, got ${results.length}`);
  return results;
}

// ---------------------------------------------------------------------------
// Workloads and their security settings
// ---------------------------------------------------------------------------

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export function podSpecOf(doc: Manifest): any {
  if (doc.kind === 'CronJob') return doc.spec?.jobTemplate?.spec?.template?.spec;
  return doc.spec?.template?.spec;
}

export const isWorkload = (doc: Manifest): boolean => WORKLOAD_KINDS.has(doc.kind ?? '') || doc.kind === 'CronJob';

/** The uid every container runs as (the images' `node` user). */
export const RUN_AS_USER = 1000;

/**
 * What is wrong with the security settings of every container and initContainer of a pod spec,
 * as "<container>: <problem>" ([] = all hardened). Container settings override the pod's.
 */
export function securityProblems(pod: any): string[] {
  const problems: string[] = [];
  const podSc = pod?.securityContext ?? {};
  const containers = [...(pod?.containers ?? []), ...(pod?.initContainers ?? []), ...(pod?.ephemeralContainers ?? [])];
  if (containers.length === 0) problems.push('pod: no containers');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const bad = (what: string) => problems.push(`${c.name}: ${what}`);
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) bad('runAsNonRoot must be true');
    if ((sc.runAsUser ?? podSc.runAsUser) !== RUN_AS_USER) bad(`runAsUser must be ${RUN_AS_USER}`);
    if (sc.readOnlyRootFilesystem !== true) bad('readOnlyRootFilesystem must be true');
    if (sc.allowPrivilegeEscalation !== false) bad('allowPrivilegeEscalation must be false');
    if (sc.privileged === true) bad('privileged must not be true');
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) bad('capabilities.drop must be [ALL]');
    if ((sc.capabilities?.add ?? []).length > 0) bad('capabilities.add must be empty');
    if ((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) !== 'RuntimeDefault') bad('seccompProfile.type must be RuntimeDefault (pod or container level)');
  }
  if (pod?.hostNetwork || pod?.hostPID || pod?.hostIPC) problems.push('pod: host namespaces must not be shared');
  return problems;
}

// ---------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}

/** Does a LabelSelector select `labels`? An empty selector selects everything (NetworkPolicy semantics). */
export function selects(selector: LabelSelector | undefined, labels: Labels, emptySelectsAll = false): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length) throw new Error('matchExpressions are not supported by these checks; extend tools/k8s/k8s-test-support.ts');
  const entries = Object.entries(selector.matchLabels ?? {});
  if (entries.length === 0) return emptySelectsAll;
  return entries.every(([k, v]) => labels[k] === v);
}

export function podLabels(doc: Manifest): Labels {
  return doc.spec?.template?.metadata?.labels ?? {};
}
