// Child process of LangGraphReferenceServer (langgraph-reference-server.ts): what
// `langgraphjs dev` (@langchain/langgraph-cli) runs, minus the watcher, the banner, the browser,
// the CLI's analytics and LangSmith: @langchain/langgraph-api's own startServer under tsx's loader
// (as there: it also lets the API import package.json files without import attributes), after the
// module hook its preload registers (so graphs and the server share one @langchain/langgraph).
// argv[2]: JSON { port, host, nWorkers, cwd, graphs: { id: '/abs/file.mjs:export' } }.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

// @ts-expect-error tsx's main export (its loader, imported for its side effect) has no type declarations
await import('tsx');
const options = JSON.parse(process.argv[2]);
const firstGraphFile = Object.values(options.graphs)[0].split(':')[0];
register(new URL('./dist/graph/load.hooks.mjs', import.meta.resolve('@langchain/langgraph-api/package.json')), {
  parentURL: 'data:',
  data: { parentURL: pathToFileURL(firstGraphFile).toString() },
});

const { startServer } = await import('@langchain/langgraph-api/server');
const { host } = await startServer(options);
// Its state is in memory (and in options.cwd/.langgraph_api, which the parent deletes): nothing to flush.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
console.log(`LANGGRAPH_REFERENCE_LISTENING ${host}`);
