// Schema validation of Kubernetes objects with `kubernetes-models`.
//
// kubernetes-models (v5) and its @kubernetes-models/* dependencies are
// ESM-only packages (their `exports` only have an "import" condition), which
// jest's CommonJS module loader can neither resolve nor evaluate. So the jest
// spec (tools/k8s/k8s-manifests.spec.ts) runs this script in a plain Node
// child process instead:
//
//   stdin:  JSON array of plain objects (parsed manifests)
//   stdout: JSON array of results, same order:
//             { status: "valid",     model }
//             { status: "invalid",   model, error }
//             { status: "no-schema", reason }   (CRDs of groups without a model
//                                                package; unknown kinds of built-in
//                                                groups and of monitoring.coreos.com
//                                                are "invalid")
//
// It can also be used by hand:
//   echo '[{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}]' \
//     | node tools/k8s/validate-manifests.mjs

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * A kubernetes-models class, e.g. `Service` of kubernetes-models/v1/Service: `validate()` throws
 * when the object it was made from does not match the schema of its apiVersion and kind.
 * @typedef {{ new (data: object): { validate(): void }, apiVersion: string, kind: string }} ModelClass
 */
/**
 * @typedef {{ Model: ModelClass, specifier: string, unknown?: undefined, reason?: undefined }
 *   | { Model?: undefined, specifier?: undefined, unknown?: boolean, reason: string }} FoundModel
 */
/**
 * @typedef {{ status: 'valid', model: string }
 *   | { status: 'invalid', model: string | null, error: string }
 *   | { status: 'no-schema', reason: string }} ValidationResult
 */

// Built-in kinds we expect in k8s/ (explicit so the coverage is documented and
// a missing model is a loud failure rather than a silent "no-schema").
/** @type {Readonly<Record<string, string>>} apiVersion/kind → module */
export const BUILTIN_MODELS = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'v1/PersistentVolumeClaim': 'kubernetes-models/v1/PersistentVolumeClaim',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'apps/v1/DaemonSet': 'kubernetes-models/apps/v1/DaemonSet',
  'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
  'batch/v1/CronJob': 'kubernetes-models/batch/v1/CronJob',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress': 'kubernetes-models/networking.k8s.io/v1/Ingress',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes-models/rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding':
    'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding',
};

// CRDs with a model package in devDependencies: their kinds are validated like
// built-in ones (a kind the package lacks is "invalid", not "no-schema").
/** @type {Readonly<Record<string, string>>} apiVersion/kind → module */
export const CRD_MODELS = {
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
  'monitoring.coreos.com/v1/PodMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
};
/** @type {Readonly<Record<string, string>>} API group → model package */
const CRD_MODEL_PACKAGES = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

const KIND_RE = /^[A-Z][A-Za-z0-9]*$/;
const API_VERSION_RE = /^(?:[a-z0-9.-]+\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;

/** @param {string} pkg */
function isInstalled(pkg) {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} specifier
 * @returns {Promise<Record<string, unknown> | undefined>} the module's exports (any module: checked by the caller), or undefined when there is no such module
 */
async function tryImport(specifier) {
  try {
    return await import(specifier);
  } catch (/** @type {any} */ err) {
    // (A catch variable may be typed any or unknown only: any, read as Node's import error, by its `code`.)
    if (err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')) {
      return undefined;
    }
    throw err;
  }
}

/**
 * Find the model class for apiVersion+kind, or a reason why there is none.
 * @param {unknown} apiVersion the document's, not checked yet
 * @param {unknown} kind the document's, not checked yet
 * @returns {Promise<FoundModel>}
 */
async function findModel(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || !API_VERSION_RE.test(apiVersion)) {
    return { reason: `invalid apiVersion ${JSON.stringify(apiVersion)}` };
  }
  if (typeof kind !== 'string' || !KIND_RE.test(kind)) {
    return { reason: `invalid kind ${JSON.stringify(kind)}` };
  }
  const key = `${apiVersion}/${kind}`;
  // core ("v1"), apps, batch, autoscaling, policy, *.k8s.io are built in.
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';

  const candidates = [];
  const known = BUILTIN_MODELS[key] ?? CRD_MODELS[key];
  const builtinGroup = !group.includes('.') || group.endsWith('.k8s.io');
  const modelGroup = builtinGroup || CRD_MODEL_PACKAGES[group] !== undefined;
  if (known) {
    candidates.push(known);
  } else if (builtinGroup) {
    // Other built-in API groups: kubernetes-models uses <apiVersion>/<Kind>.
    candidates.push(`kubernetes-models/${apiVersion}/${kind}`);
  } else if (CRD_MODEL_PACKAGES[group]) {
    candidates.push(`${CRD_MODEL_PACKAGES[group]}/${apiVersion}/${kind}`);
  }

  for (const specifier of candidates) {
    if (!isInstalled(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0])) {
      throw new Error(`${specifier}: package not installed (run npm install)`);
    }
    const mod = await tryImport(specifier);
    // An export of that module: the model class if it is one (checked next).
    const Model = /** @type {ModelClass | undefined} */ (mod && mod[kind]);
    if (typeof Model === 'function' && Model.apiVersion === apiVersion && Model.kind === kind) {
      return { Model, specifier };
    }
    if (known) {
      throw new Error(`no ${kind} export in ${specifier}`);
    }
  }
  if (modelGroup) {
    // A group with a model package always has a model: this is a typo or a removed API.
    return { unknown: true, reason: `unknown kind ${key} (not in ${builtinGroup ? 'kubernetes-models' : CRD_MODEL_PACKAGES[group]})` };
  }
  return { reason: `no kubernetes-models schema for ${key}` };
}

/**
 * @param {unknown[]} docs parsed manifests: anything JSON holds, checked here
 * @returns {Promise<ValidationResult[]>} one per document, in order
 */
export async function validateManifests(docs) {
  /** @type {ValidationResult[]} */
  const results = [];
  for (const doc of docs) {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      results.push({ status: 'invalid', model: null, error: 'document is not a mapping' });
      continue;
    }
    const manifest = /** @type {{ apiVersion?: unknown, kind?: unknown }} */ (doc);
    const found = await findModel(manifest.apiVersion, manifest.kind);
    if (!found.Model) {
      results.push(
        found.unknown
          ? { status: 'invalid', model: null, error: found.reason }
          : { status: 'no-schema', reason: found.reason },
      );
      continue;
    }
    try {
      new found.Model(doc).validate();
      results.push({ status: 'valid', model: found.specifier });
    } catch (err) {
      results.push({
        status: 'invalid',
        model: found.specifier,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return results;
}

async function readStdin() {
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const input = JSON.parse(await readStdin());
  if (!Array.isArray(input)) throw new Error('expected a JSON array of manifests on stdin');
  process.stdout.write(JSON.stringify(await validateManifests(input)));
}
