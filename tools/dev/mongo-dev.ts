// `npm run mongo:dev -- --port 27017`: the MongoDB stand-in of libs/testing by itself (a local,
// in-memory stand-in, not a real MongoDB). Prints `MONGODB_URI=...`, runs until SIGINT/SIGTERM,
// then exits 0. Options and the wire commands that steer it: libs/testing/src/mongo/dev-server.ts
// and mongo-stand-in.ts.
import { runDevServer } from '@runnel/testing';

runDevServer(process.argv.slice(2));
