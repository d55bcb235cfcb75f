/**
 * The parts of `npm run compose:smoke` (tools/compose/smoke.ts) that need no Docker engine: its
 * settings, and how the documents it inserted are recognised among the lake's events.
 */
import type { ChangeEnvelope } from '@runnel/lake';

export interface SmokeSettings {
  /** Run `docker compose up -d --build --wait` first. */
  up: boolean;
  /** Documents to insert. */
  count: number;
  /** Seconds to wait for them in the lake and for the gateway. */
  timeoutSeconds: number;
  mongoUrl: string;
  database: string;
  collection: string;
  s3Endpoint: string;
  bucket: string;
  /** Where batch-writer puts objects (its S3_PREFIX), with a trailing slash. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  gatewayUrl: string;
}

export const SMOKE_USAGE = `npm run compose:smoke -- [--up] [--count N] [--timeout SECONDS]

Inserts N documents (default 100) into MongoDB, waits until every one of them is in the lake in MinIO
(and the lake's sequence has no gaps or duplicates), and calls the gateway's /echo/invoke.
Expects \`docker compose up\` to have been run (or pass --up). Exit 0 when all is well, 1 otherwise.

Settings (environment; defaults match docker-compose.yml):
  SMOKE_MONGODB_URL   mongodb://localhost:27017/?directConnection=true
  MONGODB_DATABASE    shop          SMOKE_COLLECTION  smoke
  SMOKE_S3_ENDPOINT   http://localhost:9000
  S3_BUCKET           lake          S3_PREFIX         cdc
  MINIO_ROOT_USER / MINIO_ROOT_PASSWORD   the MinIO credentials compose started MinIO with
  SMOKE_GATEWAY_URL   http://localhost:8080`;

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive whole number, got ${value ?? 'nothing'}`);
  return n;
}

/** Settings from the command line and the environment; throws with a readable message on bad input. */
export function parseSmokeArgs(argv: string[], env: Record<string, string | undefined>): SmokeSettings {
  let up = false;
  let count = 100;
  let timeoutSeconds = 120;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--up') up = true;
    else if (flag === '--count') count = positiveInt(flag, value());
    else if (flag === '--timeout') timeoutSeconds = positiveInt(flag, value());
    else throw new Error(`unknown argument ${arg}\n\n${SMOKE_USAGE}`);
  }
  const prefix = (env.S3_PREFIX ?? 'cdc').replace(/^\/+|\/+$/g, '');
  return {
    up,
    count,
    timeoutSeconds,
    mongoUrl: env.SMOKE_MONGODB_URL || 'mongodb://localhost:27017/?directConnection=true',
    database: env.MONGODB_DATABASE || 'shop',
    collection: env.SMOKE_COLLECTION || 'smoke',
    s3Endpoint: env.SMOKE_S3_ENDPOINT || 'http://localhost:9000',
    bucket: env.S3_BUCKET || 'lake',
    prefix: prefix ? `${prefix}/` : '',
    accessKeyId: env.MINIO_ROOT_USER || 'runnel',
    secretAccessKey: env.MINIO_ROOT_PASSWORD || 'runnel-dev-password',
    gatewayUrl: (env.SMOKE_GATEWAY_URL || 'http://localhost:8080').replace(/\/+$/, ''),
  };
}

/**
 * Which of this run's documents (`{ smoke_run: runId, i }`, i = 0..count-1) the events contain as
 * inserts; `seen` is updated in place (a document stored twice counts once here; the lake check
 * reports duplicates).
 */
export function markRunDocuments(events: Pick<ChangeEnvelope, 'operation' | 'collection' | 'full_document'>[], collection: string, runId: string, seen: Set<number>): void {
  for (const e of events) {
    if (e.operation !== 'insert' || e.collection !== collection || !e.full_document) continue;
    let doc: { smoke_run?: unknown; i?: unknown };
    try {
      doc = JSON.parse(e.full_document) as typeof doc;
    } catch {
      continue;
    }
    if (doc.smoke_run !== runId) continue;
    // Canonical Extended JSON writes numbers as {"$numberInt": "7"}; relaxed as 7.
    const i = typeof doc.i === 'object' && doc.i !== null ? Number((doc.i as Record<string, string>).$numberInt ?? (doc.i as Record<string, string>).$numberLong) : Number(doc.i);
    if (Number.isInteger(i)) seen.add(i);
  }
}

/** The indexes of this run's documents not yet seen (first `limit`), for the report. */
export function missingDocuments(count: number, seen: Set<number>, limit = 10): number[] {
  const missing: number[] = [];
  for (let i = 0; i < count && missing.length < limit; i++) if (!seen.has(i)) missing.push(i);
  return missing;
}
