/**
 * Each service image's build args, as docker-bake.hcl gives them to the one Dockerfile (APP,
 * NODE_OPTIONS, PORTS, HEALTH_PORT). The benchmarks and load tests run a service with the
 * image's NODE_OPTIONS from here (a k8s Deployment may add flags: the gateway's adds a heap cap); the compose and Dockerfile specs check the other
 * places that repeat them.
 *
 * The file is read with a pattern, not an HCL parser: a `target "<name>" { ... args = { K = "V" } }`
 * block per service, string values only (docker-bake.hcl keeps to that shape).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@runnel/testing';

export const BAKE_FILE = join(REPO_ROOT, 'docker-bake.hcl');

/** target name → its args (targets without args are left out). */
export function parseBakeArgs(text: string): Record<string, Record<string, string>> {
  const targets: Record<string, Record<string, string>> = {};
  for (const m of text.matchAll(/^target\s+"([^"]+)"\s*\{([\s\S]*?)^\}/gm)) {
    const args = /\bargs\s*=\s*\{([^}]*)\}/.exec(m[2]);
    if (!args) continue;
    targets[m[1]] = Object.fromEntries([...args[1].matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/gm)].map((a) => [a[1], a[2]]));
  }
  return targets;
}

/** The build args of one service's image (throws for a service docker-bake.hcl does not build). */
export function imageBuildArgs(app: string): Record<string, string> {
  const args = parseBakeArgs(readFileSync(BAKE_FILE, 'utf8'))[app];
  if (!args) throw new Error(`docker-bake.hcl has no target "${app}" with args`);
  return args;
}

/** The node flags a service's image runs it with: its NODE_OPTIONS build arg, word by word. */
export function imageNodeArgs(app: string): string[] {
  return (imageBuildArgs(app).NODE_OPTIONS ?? '').split(' ').filter(Boolean);
}
