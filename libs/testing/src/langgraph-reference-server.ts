import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { freePort } from './free-port';
import { Child } from './harness/child';
import { LocalServer } from './harness/local-server';
import { waitForOk } from './harness/wait-for';

export interface LangGraphReferenceServerOptions {
  /** Graph id → `'./file.mjs:exportName'` (as in langgraph.json), relative to `cwd`. */
  graphs: Record<string, string>;
  /**
   * Where the graph paths are relative to. The graph files must sit inside the repository (e.g. a
   * fixtures dir): the server resolves `@langchain/langgraph` from the first graph file's folder.
   */
  cwd: string;
  port?: number;
  /** Run workers (the CLI's --n-jobs-per-worker, 10 by default there and here). */
  nWorkers?: number;
  /** The server's winston level (its default is `debug`, very chatty); its output is kept, not printed. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Everything that would make the reference talk to LangSmith (or read graph settings) is unset or off. */
const quiet: Record<string, string | undefined> = {
  LANGSMITH_TRACING: 'false',
  LANGSMITH_TRACING_V2: 'false',
  LANGCHAIN_TRACING: 'false',
  LANGCHAIN_TRACING_V2: 'false',
  LANGGRAPH_NO_ANALYTICS: '1',
  LANGSMITH_API_KEY: undefined,
  LANGCHAIN_API_KEY: undefined,
  LANGSMITH_ENDPOINT: undefined,
  LANGCHAIN_ENDPOINT: undefined,
  LANGGRAPH_CONFIG: undefined,
};

/**
 * The LangGraph Platform reference: `@langchain/langgraph-api`'s in-memory dev server (what
 * `langgraphjs dev` serves), as a child process (the harness's Child: killed if the parent exits
 * first) on a free loopback port, so that `stop()` (by pid) ends it and its state. It persists that state under `<its cwd>/.langgraph_api/`: its cwd is a
 * fresh temp dir (removed by `stop()`), never the repository. No browser, no LangSmith, no licence.
 */
export class LangGraphReferenceServer extends LocalServer {
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the server has logged so far (the last 64 KiB). */
  get logs(): string {
    return this.output;
  }

  static async start(options: LangGraphReferenceServerOptions): Promise<LangGraphReferenceServer> {
    const entries = Object.entries(options.graphs);
    if (entries.length === 0) throw new Error('LangGraphReferenceServer needs at least one graph');
    const graphs = Object.fromEntries(
      entries.map(([id, spec]) => {
        const [file, exportName] = spec.split(':', 2);
        const path = isAbsolute(file) ? file : resolve(options.cwd, file);
        if (!existsSync(path)) throw new Error(`graph '${id}': no file ${path}`);
        return [id, exportName ? `${path}:${exportName}` : path];
      }),
    );
    const port = options.port ?? (await freePort());
    const host = '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), 'runnel-langgraph-api-'));
    const env = {
      ...process.env,
      ...quiet,
      // As the CLI's spawnServer and entrypoint set them.
      NODE_ENV: 'development',
      LANGGRAPH_API_URL: `http://${host}:${port}`,
      PORT: String(port),
      LOG_LEVEL: options.logLevel ?? 'info',
      ...options.env,
    };
    const payload = { port, host, nWorkers: options.nWorkers ?? 10, cwd: dir, graphs };
    const child = new Child('the LangGraph reference server', process.execPath, [join(__dirname, 'langgraph-reference-runner.mjs'), JSON.stringify(payload)], { cwd: dir, env, keepBytes: 65_536 });
    // dir: its working directory, where its `.langgraph_api/` persistence lives (a LocalServer's own).
    const server = new LangGraphReferenceServer(port, dir, child, true);
    try {
      await waitForOk(`${server.url}/ok`, child, options.startTimeoutMs ?? 60_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** SIGTERM by pid (SIGKILL after 5 s), then its temp dir goes, and with both all its state. */
  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 5_000);
    this.removeDir();
  }
}
