import { MongoStandIn, type MongoStandInOptions } from './mongo-stand-in';

/**
 * The stand-in as a program by itself (`npm run mongo:dev -- --port 27017`, tools/dev/mongo-dev.ts):
 * prints `MONGODB_URI=...` first, says plainly that it is a local stand-in, runs until SIGINT or
 * SIGTERM, then closes every connection and exits 0.
 *
 *   --port N            TCP port (default 27017; 0 picks a free one)
 *   --host H            address to bind (default 127.0.0.1)
 *   --advertise-host H  host name the replica set advertises and the URI names (default: --host)
 *   --oplog-size N      oplog window in entries (default 1000000)
 *   --repl-set NAME     replica set name (default rs0)
 */
export const DEV_USAGE = 'usage: mongo-dev [--port N] [--host H] [--advertise-host H] [--oplog-size N] [--repl-set NAME]';

/** Options from the command line; throws an Error with the reason (and DEV_USAGE for --help). */
export function parseDevArgs(argv: readonly string[]): MongoStandInOptions {
  const o: MongoStandInOptions = { port: 27017 };
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    const inline = eq > 0 ? argv[i].slice(eq + 1) : undefined;
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer`);
      return v;
    };
    switch (flag) {
      case '--port':
        o.port = int();
        break;
      case '--host':
        o.host = value();
        break;
      case '--advertise-host':
        o.advertiseHost = value();
        break;
      case '--oplog-size':
        o.oplogSize = Math.max(1, int());
        break;
      case '--repl-set':
        o.replSetName = value();
        break;
      case '--help':
      case '-h':
        throw new Error(DEV_USAGE);
      default:
        throw new Error(`unknown option ${argv[i]}\n${DEV_USAGE}`);
    }
  }
  // Run by hand, it keeps no history of received commands in memory.
  o.recordCommands = 0;
  return o;
}

/** Starts it and prints the URI line, then what it is. */
export async function startDevServer(argv: readonly string[], log: (line: string) => void): Promise<MongoStandIn> {
  const m = await MongoStandIn.start(parseDevArgs(argv));
  log(`MONGODB_URI=${m.uri}`);
  log(`mongo stand-in: a local MongoDB stand-in, not a real MongoDB: an in-memory one-member replica set on ${m.address} (also ${m.directUri}); everything is lost when it stops. Ctrl-C to stop.`);
  return m;
}

/** The program: runs until SIGINT/SIGTERM, then stops and exits 0 (2 on bad arguments or a failed start). */
export function runDevServer(argv: readonly string[]): void {
  startDevServer(argv, (line) => console.log(line)).then(
    (m) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        console.log(`mongo stand-in: ${signal}, stopping`);
        m.stop().then(
          () => process.exit(0),
          (e: unknown) => {
            console.error(`mongo stand-in: stop failed: ${String(e)}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (e: unknown) => {
      console.error(`mongo stand-in: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    },
  );
}
