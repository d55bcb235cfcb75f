import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FlakyProxy, S3Server } from '@runnel/testing';
import { ObjectStore, sha256 } from './object-store';

let s3server: S3Server;
let s3: S3Client;
beforeAll(async () => {
  s3server = await S3Server.start(['lake']);
  s3 = new S3Client(s3server.clientConfig);
});
afterAll(async () => {
  s3.destroy();
  await s3server.stop();
});

const obj = (key: string, text: string) => {
  const body = Buffer.from(text);
  return { key, body, contentType: 'application/x-ndjson', contentEncoding: 'zstd', sha256: sha256(body) };
};

async function read(key: string): Promise<{ body: string; sha?: string; type?: string; encoding?: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }));
  return { body: await res.Body!.transformToString(), sha: res.Metadata?.sha256, type: res.ContentType, encoding: res.ContentEncoding };
}

describe('ObjectStore against s3rver (HEAD-before-put mode: s3rver ignores If-None-Match on PUT)', () => {
  const store = () => new ObjectStore(s3, { bucket: 'lake', multipartThreshold: 8 * 1024 * 1024, conditionalWrites: false });

  it('creates an object with its metadata', async () => {
    const o = obj('a/one.jsonl.zst', 'hello');
    expect(await store().put(o)).toBe('created');
    expect(await read(o.key)).toEqual({ body: 'hello', sha: o.sha256, type: 'application/x-ndjson', encoding: 'zstd' });
  });

  it('a replay of the same batch is recognised as already stored', async () => {
    const o = obj('a/two.jsonl', 'same bytes');
    expect(await store().put(o)).toBe('created');
    expect(await store().put(o)).toBe('already-stored');
  });

  it('a rebuilt object with other bytes keeps the first stored version (replays converge, never conflict)', async () => {
    const o = obj('a/three.jsonl', 'original');
    await store().put(o);
    expect(await store().put(obj('a/three.jsonl', 'different'))).toBe('kept-first');
    expect((await read(o.key)).body).toBe('original');
  });

  it('uploads large bodies as multipart', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024, 'x');
    const o = { key: 'a/big.csv', body: big, contentType: 'text/csv', sha256: sha256(big) };
    const client = new S3Client(s3server.clientConfig);
    const commands: string[] = [];
    client.middlewareStack.add((next, context) => (args) => (commands.push(String(context.commandName)), next(args)), { step: 'initialize' });
    try {
      const multipart = new ObjectStore(client, { bucket: 'lake', multipartThreshold: 5 * 1024 * 1024, conditionalWrites: false });
      expect(await multipart.put(o)).toBe('created');
    } finally {
      client.destroy();
    }
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CompleteMultipartUploadCommand');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'lake', Key: o.key }));
    expect(head.ContentLength).toBe(big.length);
    expect(head.Metadata?.sha256).toBe(o.sha256);
  });
});

describe('ObjectStore with conditional writes (If-None-Match: *), against S3 semantics', () => {
  // s3rver ignores If-None-Match, so a proxy in front of it answers 412 for an existing key, as
  // AWS S3 and MinIO do; the objects themselves are stored by s3rver.
  let proxy: FlakyProxy;
  let client: S3Client;
  beforeAll(async () => {
    proxy = await FlakyProxy.start(s3server.endpoint, { conditionalWrites: true });
    client = new S3Client({ ...s3server.clientConfig, endpoint: proxy.endpoint });
  });
  afterAll(async () => {
    client.destroy();
    await proxy.stop();
  });
  const store = () => new ObjectStore(client, { bucket: 'lake', multipartThreshold: 8 * 1024 * 1024, conditionalWrites: true });

  it('creates with one request, no HEAD first', async () => {
    const before = proxy.forwarded;
    expect(await store().put(obj('c/one.jsonl', 'first'))).toBe('created');
    expect(proxy.forwarded - before).toBe(1);
  });

  it('a 412 on a replay of the same bytes is "already stored"', async () => {
    const o = obj('c/two.jsonl', 'same');
    await store().put(o);
    const refused = proxy.preconditionFailed;
    expect(await store().put(o)).toBe('already-stored');
    expect(proxy.preconditionFailed).toBe(refused + 1);
  });

  it('a 412 for different content keeps the first stored version, untouched', async () => {
    await store().put(obj('c/three.jsonl', 'original'));
    expect(await store().put(obj('c/three.jsonl', 'different'))).toBe('kept-first');
    expect((await read('c/three.jsonl')).body).toBe('original');
  });
});
