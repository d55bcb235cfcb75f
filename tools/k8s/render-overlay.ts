/**
 * Prints a kustomization rendered by tools/k8s/render-kustomize.ts, for machines without kubectl:
 *   node tools/dev/run-ts.mjs tools/k8s/render-overlay.ts k8s/overlays/production
 */
import { renderKustomizationYaml } from './render-kustomize';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: render-overlay.ts <directory with kustomization.yaml>\n');
  process.exitCode = 2;
} else {
  process.stdout.write(renderKustomizationYaml(dir));
}
