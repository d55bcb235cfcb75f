import { request } from 'node:http';
import { RunnableLambda } from '@langchain/core/runnables';
import { startTestGateway, type TestGateway } from './gateway-harness';

/** Raw bytes of a POST, to check the SSE framing exactly as LangServe writes it. */
function rawPost(url: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('SSE wire format', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ STREAM_PING_INTERVAL: '0.05' }, {
      register: (r) => {
        r.addRoutes(
          RunnableLambda.from(async function* (_x: unknown) {
            yield 'first';
            throw new Error('db password is hunter2');
          }),
          { path: 'fails_midway' },
        );
        r.addRoutes(
          RunnableLambda.from(async (x: number, config) => {
            await new Promise((resolve, reject) => {
              const t = setTimeout(resolve, 200);
              config?.signal?.addEventListener('abort', () => {
                clearTimeout(t);
                reject(new Error('aborted'));
              });
            });
            return x;
          }),
          { path: 'slow' },
        );
      },
    });
  });
  afterAll(() => gw.close());

  it('stream: metadata once (json.dumps separators, as LangServe), data per chunk, end with no data line, CRLF framing', async () => {
    const res = await rawPost(`${gw.url}/echo/stream`, { input: 'a b' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toMatch(
      new RegExp(
        `^event: metadata\\r\\ndata: \\{"run_id": "${UUID}"\\}\\r\\n\\r\\n` +
          'event: data\\r\\ndata: "a"\\r\\n\\r\\n' +
          'event: data\\r\\ndata: " b"\\r\\n\\r\\n' +
          'event: end\\r\\n\\r\\n$',
      ),
    );
  });

  it('a non-string input streams as one chunk', async () => {
    const res = await rawPost(`${gw.url}/echo/stream`, { input: { k: [1, 2] } });
    expect(res.text).toContain('event: data\r\ndata: {"k":[1,2]}\r\n\r\nevent: end\r\n\r\n');
  });

  it('a failure mid-stream sends a generic error event and no end', async () => {
    const res = await rawPost(`${gw.url}/fails_midway/stream`, { input: null });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      new RegExp(
        `^event: metadata\\r\\ndata: \\{"run_id": "${UUID}"\\}\\r\\n\\r\\n` +
          'event: data\\r\\ndata: "first"\\r\\n\\r\\n' +
          'event: error\\r\\ndata: \\{"status_code": 500, "message": "Internal Server Error"\\}\\r\\n\\r\\n$',
      ),
    );
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('event: end');
  });

  it('sends `: ping` comments while a run is quiet', async () => {
    const res = await rawPost(`${gw.url}/slow/stream`, { input: 7 });
    expect(res.text).toContain(': ping\r\n\r\n');
    expect(res.text).toMatch(/event: data\r\ndata: 7\r\n\r\nevent: end\r\n\r\n$/);
  });

  it('validation errors come as JSON before any stream starts', async () => {
    const res = await rawPost(`${gw.url}/chat/stream`, { input: { input: 5 } });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.text).detail).toMatch(/input\.input/);
  });

  it('stream_log and stream_events frame data events the same way, ending with end', async () => {
    for (const endpoint of ['stream_log', 'stream_events']) {
      const res = await rawPost(`${gw.url}/echo/${endpoint}`, { input: 'x y' });
      expect(res.status).toBe(200);
      const frames = res.text.split('\r\n\r\n').filter(Boolean);
      expect(frames.length).toBeGreaterThan(1); // at least one data event before the end
      expect(frames.at(-1)).toBe('event: end');
      for (const frame of frames.slice(0, -1)) expect(frame).toMatch(/^event: data\r\ndata: \{.*\}$/s);
    }
  });
});
