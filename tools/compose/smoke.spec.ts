import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { markRunDocuments, missingDocuments, parseSmokeArgs } from './smoke-lib';

type Service = { ports?: string[]; environment?: Record<string, string> };
const compose = parse(readFileSync(join(__dirname, '../../docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
/** A compose value with nothing set in the shell: `${VAR:-default}` → default. */
const dflt = (v: string) => v.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
const published = (svc: string, container: number) => compose.services[svc].ports?.map((p) => p.split(':')).find((p) => Number(p.at(-1)) === container)?.at(-2);

describe('compose:smoke settings', () => {
  test('defaults match docker-compose.yml', () => {
    expect(parseSmokeArgs([], {})).toEqual({
      up: false,
      count: 100,
      timeoutSeconds: 120,
      mongoUrl: 'mongodb://localhost:27017/?directConnection=true',
      database: 'shop',
      collection: 'smoke',
      s3Endpoint: 'http://localhost:9000',
      bucket: 'lake',
      prefix: 'cdc/',
      accessKeyId: 'runnel',
      secretAccessKey: 'runnel-dev-password',
      gatewayUrl: 'http://localhost:8080',
    });
  });

  test('the defaults are what docker-compose.yml publishes and configures', () => {
    const s = parseSmokeArgs([], {});
    expect(new URL(s.mongoUrl).port).toBe(published('mongodb', 27017));
    expect(new URL(s.s3Endpoint).port).toBe(published('minio', 9000));
    expect(new URL(s.gatewayUrl).port).toBe(published('gateway', 8080));
    const env = (svc: string, k: string) => dflt(compose.services[svc].environment![k]);
    expect(s.bucket).toBe(env('s3-uploader', 'S3_BUCKET'));
    expect(s.prefix).toBe(`${env('batch-writer', 'S3_PREFIX')}/`);
    expect(s.database).toBe(env('change-reader', 'MONGODB_DATABASE'));
    expect([s.accessKeyId, s.secretAccessKey]).toEqual([env('minio', 'MINIO_ROOT_USER'), env('minio', 'MINIO_ROOT_PASSWORD')]);
    // The whole database is watched, so the smoke collection's inserts are read.
    expect(env('change-reader', 'MONGODB_COLLECTIONS')).toBe('');
  });

  test('flags (both --flag value and --flag=value) and environment overrides', () => {
    const s = parseSmokeArgs(['--up', '--count', '5', '--timeout=30'], { S3_PREFIX: '/lake/x/', S3_BUCKET: 'b', MINIO_ROOT_USER: 'u', SMOKE_GATEWAY_URL: 'http://gw:1/' });
    expect(s).toMatchObject({ up: true, count: 5, timeoutSeconds: 30, prefix: 'lake/x/', bucket: 'b', accessKeyId: 'u', gatewayUrl: 'http://gw:1' });
    expect(parseSmokeArgs([], { S3_PREFIX: '' }).prefix).toBe('');
  });

  test('bad input is refused with a reason', () => {
    expect(() => parseSmokeArgs(['--count', '0'], {})).toThrow(/--count needs a positive whole number/);
    expect(() => parseSmokeArgs(['--count'], {})).toThrow(/got nothing/);
    expect(() => parseSmokeArgs(['--timeout', '1.5'], {})).toThrow(/--timeout/);
    expect(() => parseSmokeArgs(['--cout', '3'], {})).toThrow(/unknown argument --cout/);
  });
});

describe('recognising the run documents among lake events', () => {
  const ev = (operation: string, collection: string, doc: unknown) => ({ operation, collection, full_document: doc === null ? null : JSON.stringify(doc) });

  test('only inserts of this run into the smoke collection count, canonical or relaxed EJSON numbers alike', () => {
    const seen = new Set<number>();
    markRunDocuments(
      [
        ev('insert', 'smoke', { smoke_run: 'r1', i: { $numberInt: '0' } }),
        ev('insert', 'smoke', { smoke_run: 'r1', i: 2 }),
        ev('insert', 'smoke', { smoke_run: 'r1', i: { $numberLong: '3' } }),
        ev('insert', 'smoke', { smoke_run: 'other-run', i: 1 }),
        ev('insert', 'orders', { smoke_run: 'r1', i: 1 }),
        ev('update', 'smoke', { smoke_run: 'r1', i: 1 }),
        ev('delete', 'smoke', null),
        { operation: 'insert', collection: 'smoke', full_document: '{not json' },
      ],
      'smoke',
      'r1',
      seen,
    );
    expect([...seen].sort()).toEqual([0, 2, 3]);
    expect(missingDocuments(5, seen)).toEqual([1, 4]);
  });

  test('a document stored twice counts once; the missing list is capped', () => {
    const seen = new Set<number>();
    markRunDocuments([ev('insert', 'smoke', { smoke_run: 'r', i: 1 }), ev('insert', 'smoke', { smoke_run: 'r', i: 1 })], 'smoke', 'r', seen);
    expect(seen.size).toBe(1);
    expect(missingDocuments(100, seen, 3)).toEqual([0, 2, 3]);
  });
});
