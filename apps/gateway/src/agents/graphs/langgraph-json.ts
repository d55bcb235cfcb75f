import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AgentGraphs, GraphSetupError } from './agent-graphs';

/**
 * Loads the graphs of a `langgraph.json` (the file `@langchain/langgraph-cli` reads) into `graphs`:
 * its `graphs` map `{"agent": "./src/agent.ts:graph"}`, module paths relative to the file, the part
 * after the last ':' naming the export (`default` when there is none). `.mjs`, `.cjs` and `.js`
 * modules load as Node loads them; `.ts` modules load with Node 24's type stripping (erasable
 * syntax only: no enums or parameter properties; relative imports name the file as it is,
 * `./state.ts`), since the gateway runs no TypeScript compiler.
 *
 * @throws GraphSetupError naming LANGGRAPH_JSON and the graph when the file is unreadable, is not
 *   JSON, has no `graphs` object, or a graph's module or export cannot be loaded.
 */
export async function loadLangGraphJson(file: string, graphs: AgentGraphs): Promise<string[]> {
  const path = resolve(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new GraphSetupError(`LANGGRAPH_JSON: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const specs = (parsed as { graphs?: unknown } | null)?.graphs;
  if (typeof specs !== 'object' || specs === null || Array.isArray(specs))
    throw new GraphSetupError(`LANGGRAPH_JSON: ${file} has no "graphs" object (e.g. {"graphs": {"agent": "./src/agent.ts:graph"}})`);
  const loaded: string[] = [];
  for (const [graphId, spec] of Object.entries(specs as Record<string, unknown>)) {
    if (typeof spec !== 'string' || spec.length === 0)
      throw new GraphSetupError(`LANGGRAPH_JSON: graph "${graphId}" must be a string "./path/to/module.js:exportName"`);
    const { modulePath, exportName } = splitSpec(spec);
    const target = resolve(dirname(path), modulePath);
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(target).href);
    } catch (err) {
      throw new GraphSetupError(`LANGGRAPH_JSON: graph "${graphId}": cannot load ${modulePath}: ${(err as Error).message}`, { cause: err });
    }
    const source = mod[exportName] ?? (exportName === 'default' ? undefined : (mod.default as Record<string, unknown> | undefined)?.[exportName]);
    if (source === undefined || source === null)
      throw new GraphSetupError(`LANGGRAPH_JSON: graph "${graphId}": ${modulePath} has no export "${exportName}"`);
    graphs.add(source as object, { graphId, origin: 'LANGGRAPH_JSON' });
    loaded.push(graphId);
  }
  return loaded;
}

/** `./src/agent.ts:graph` → module and export; a path without ':' names the default export. */
export function splitSpec(spec: string): { modulePath: string; exportName: string } {
  const colon = spec.lastIndexOf(':');
  // A Windows drive letter (C:\…) is not an export separator.
  if (colon <= 1) return { modulePath: spec, exportName: 'default' };
  return { modulePath: spec.slice(0, colon), exportName: spec.slice(colon + 1) || 'default' };
}
