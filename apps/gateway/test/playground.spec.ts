import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { RunnableLambda, RunnableParallel, RunnableSequence } from '@langchain/core/runnables';
import LZString from 'lz-string';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { z } from 'zod';
import type { RunnableRegistry } from '../src/registry/runnable-registry';
import { LocalChatModel } from '../src/runnables/local-chat-model';
import { startTestGateway, type TestGateway } from './gateway-harness';

/**
 * The playground page in a real browser (Debian's chromium driven by playwright-core) against a
 * real gateway: form rendering from the input schema, invoke, stream, client-side JSON errors,
 * server errors, the API key field, chat mode over `/stream` (string chunks and AIMessageChunks),
 * the config editor from config_schema, stream_log's runs as a tree, the `c/{hash}` share link,
 * "copy as" snippets (the curl and JS ones executed against the gateway), the layout at desktop and
 * phone widths, and that the page talks to nothing but its own origin.
 *
 * Set PLAYGROUND_SCREENSHOT=/some/file.png to keep a screenshot of the chat page after an invoke.
 */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN_DELAY_MS = 20;
const CHAT_PREFIX = '[runnel local model] You said: ';
/** A key typed into the page in the snippet test: it must never appear in a snippet. */
const SECRET_KEY = 'pg-secret-key-7f3a91';

interface OpenedPage {
  page: Page;
  /** Every request the page made, in order, with its JSON body when it had one. */
  requests: { method: string; url: string; body?: any }[];
}

jest.setTimeout(15_000);

const run = promisify(execFile);

/** Echoes the run's `configurable` so a test sees what reached the run; a string, so every client prints it as is. */
const STYLED_CONFIGURABLE = z.object({
  style: z.enum(['plain', 'fancy']).default('plain').describe('How to answer'),
  times: z.number().int().min(1).optional(),
  shout: z.boolean().optional(),
  suffix: z.string().optional(),
  extra: z.object({ a: z.number() }).optional(),
});

function registerTestRunnables(r: RunnableRegistry): void {
  r.addRoutes(
    RunnableLambda.from((input: unknown, config) => JSON.stringify({ input, configurable: config?.configurable ?? {} })),
    { path: 'styled', configurableSchema: STYLED_CONFIGURABLE, exampleInput: 'hi' },
  );
  // A message-list runnable that streams AIMessageChunks.
  r.addRoutes(new LocalChatModel({ tokenDelayMs: TOKEN_DELAY_MS }), {
    path: 'model',
    inputSchema: z.array(z.object({ type: z.enum(['human', 'ai', 'system']), content: z.string() })),
  });
  // Nested runs for stream_log: a sequence with an inner sequence, then a parallel map of two branches.
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const step = (name: string, fn: (x: any) => unknown, ms = 0) =>
    RunnableLambda.from(async (x: any) => {
      if (ms) await pause(ms);
      return fn(x);
    }).withConfig({ runName: name });
  const inner = RunnableSequence.from([step('inner-a', (x: string) => `${x}+a`), step('inner-b', (x: string) => `${x}+b`)]).withConfig({ runName: 'inner' });
  const branches = RunnableParallel.from({
    left: step('left', (x: string) => `${x}<`, 40),
    right: RunnableSequence.from([step('right-1', (x: string) => `${x}>`, 5), step('right-2', (x: string) => `${x}>`, 5)]).withConfig({ runName: 'right' }),
  });
  r.addRoutes(RunnableSequence.from([step('prepare', (x: string) => x.trim()), inner, branches]), { path: 'nested' });
}

/** Pixels of a PNG as playwright writes it (8-bit RGB or RGBA, not interlaced): decoded with node:zlib. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[12]]).toEqual([8, 0]); // bit depth 8, no interlace
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]];
      expect(channels).toBeDefined();
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Distinct colours, and the share of pixels that differ from the page background (#f6f7f9). */
function pixelStats(png: Buffer): { colours: number; foreground: number; width: number; height: number } {
  const { width, height, channels, pixels } = decodePng(png);
  const colours = new Set<number>();
  let foreground = 0;
  for (let i = 0; i < pixels.length; i += channels) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (Math.abs(r - 0xf6) + Math.abs(g - 0xf7) + Math.abs(b - 0xf9) > 12) foreground++;
  }
  return { colours: colours.size, foreground: foreground / (width * height), width, height };
}

describe('playground page in chromium', () => {
  let browser: Browser;
  let gw: TestGateway;
  let authGw: TestGateway;
  let context: BrowserContext;
  const pages: Page[] = [];
  /** Across every page opened in this file: uncaught page errors and CSP violations must stay empty. */
  const pageErrors: string[] = [];
  const allRequests: { method: string; url: string; gateway: string }[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the playground suite drives Debian's chromium. Install it with ` +
          '`apt-get install -y chromium` (tools/dev/ensure-deps.sh --test does this as root).',
      );
    }
    [browser, gw, authGw] = await Promise.all([
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
      startTestGateway({ LOCAL_MODEL_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) }, { register: registerTestRunnables }),
      startTestGateway({ GATEWAY_API_KEYS: `k1,${SECRET_KEY}` }, { register: registerTestRunnables }),
    ]);
    // One context; each test gets its own page (tab), so sessionStorage is not shared between tests.
    context = await browser.newContext();
  }, 20_000);

  afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), gw?.close(), authGw?.close()]);
  });

  async function open(gateway: TestGateway, runnable: string, at = `/${runnable}/playground`): Promise<OpenedPage> {
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(5_000);
    const requests: OpenedPage['requests'] = [];
    page.on('request', (r) => {
      const data = r.postData();
      let body: unknown;
      try {
        body = data ? JSON.parse(data) : undefined;
      } catch {
        body = data;
      }
      requests.push({ method: r.method(), url: r.url(), body });
      allRequests.push({ method: r.method(), url: r.url(), gateway: gateway.url });
    });
    page.on('pageerror', (e) => pageErrors.push(`${runnable}: ${e.message}`));
    page.on('console', (m) => {
      if (/content security policy/i.test(m.text())) pageErrors.push(`${runnable}: ${m.text()}`);
    });
    const res = await page.goto(`${gateway.url}${at}`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    // The form and the config editor exist once the schema fetches have settled (success or fallback).
    await page.waitForSelector('#field-input', { state: 'attached' });
    await page.waitForSelector('#config-extra', { state: 'attached' });
    return { page, requests };
  }

  /** Waits until #output's text satisfies `match`; on timeout, says what #output and #status held. */
  async function waitForOutput(page: Page, match: string | RegExp, timeout = 5_000): Promise<string> {
    const expected = typeof match === 'string' ? { s: match } : { re: match.source, flags: match.flags };
    try {
      await page.waitForFunction(
        (e: { s?: string; re?: string; flags?: string }) => {
          const text = document.getElementById('output')?.textContent ?? '';
          return e.s !== undefined ? text === e.s : new RegExp(e.re as string, e.flags).test(text);
        },
        expected,
        { timeout, polling: 10 },
      );
    } catch (err) {
      const state = await snapshot(page);
      throw new Error(`#output never matched ${String(match)}; #output=${JSON.stringify(state.output)} #status=${JSON.stringify(state.status)} (${(err as Error).message.split('\n')[0]})`);
    }
    return (await snapshot(page)).output;
  }

  async function snapshot(page: Page): Promise<{ output: string; status: string; outputClass: string }> {
    return page.evaluate(() => ({
      output: document.getElementById('output')?.textContent ?? '',
      status: document.getElementById('status')?.textContent ?? '',
      outputClass: document.getElementById('output')?.className ?? '',
    }));
  }

  const posts = (requests: OpenedPage['requests'], endpoint: string) => requests.filter((r) => r.method === 'POST' && r.url.endsWith(`/${endpoint}`));

  it('chat: renders a textarea for `input` from the schema and invokes (form mode)', async () => {
    const { page, requests } = await open(gw, 'chat');
    // Its input is a text beside a message history: the page opens in chat mode; Form is one click away.
    expect(await page.isChecked('#mode-chat')).toBe(true);
    expect(await page.isVisible('#chat-input')).toBe(true);
    await page.click('#mode-form');
    expect(await page.isHidden('#chat')).toBe(true);
    expect(await page.$eval('#field-input', (el) => el.tagName)).toBe('TEXTAREA');
    expect(await page.textContent('label[for="field-input"]')).toBe('input');
    // `history` is an array: a JSON textarea.
    expect(await page.$eval('#field-history', (el) => [el.tagName, (el as HTMLElement).dataset.json])).toEqual(['TEXTAREA', '1']);
    expect(await page.textContent('#runnable-name')).toBe('chat');
    expect(await page.isHidden('#auth')).toBe(true);

    await page.fill('#field-input', 'hello browser');
    await page.click('#invoke');
    await waitForOutput(page, `${CHAT_PREFIX}hello browser`);
    expect((await snapshot(page)).outputClass).toBe('');
    expect(posts(requests, 'invoke')).toHaveLength(1);
    if (process.env.PLAYGROUND_SCREENSHOT) await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT, fullPage: true });
  });

  it('chat: Stream shows the answer growing chunk by chunk, then the chunk count', async () => {
    const { page, requests } = await open(gw, 'chat');
    await page.click('#mode-form');
    const final = `${CHAT_PREFIX}stream this please`;
    await page.fill('#field-input', 'stream this please');
    // Record what #output and #status hold each time the page redraws #output. Every chunk is its own
    // redraw; a prefix seen while the status still says streaming… was on screen before the stream ended.
    await page.evaluate(() => {
      const out = document.getElementById('output') as HTMLElement;
      const status = document.getElementById('status') as HTMLElement;
      const seen: { text: string; status: string }[] = [];
      (window as unknown as { __seen: typeof seen }).__seen = seen;
      new MutationObserver(() => seen.push({ text: out.textContent ?? '', status: status.textContent ?? '' })).observe(out, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.click('#stream');
    await page.waitForFunction(() => /^done \(\d+ chunks\)$/.test(document.getElementById('status')?.textContent ?? ''));
    const state = await snapshot(page);
    expect(state.output).toBe(final);
    expect(state.outputClass).toBe('');
    const chunks = Number(/^done \((\d+) chunks\)$/.exec(state.status)?.[1]);
    expect(chunks).toBeGreaterThan(1);

    const seen = await page.evaluate(() => (window as unknown as { __seen: { text: string; status: string }[] }).__seen);
    const partial = seen.filter((s) => s.text !== '' && s.text !== final && final.startsWith(s.text) && s.status === 'streaming…');
    expect(partial.length).toBeGreaterThan(0);
    // Nothing else ever appeared in #output: only growing prefixes of the answer.
    for (const s of seen) expect(final.startsWith(s.text)).toBe(true);
    expect(posts(requests, 'stream')).toHaveLength(1);
  });

  it('echo: JSON textarea; pretty-prints the output; invalid JSON is an error and sends nothing', async () => {
    const { page, requests } = await open(gw, 'echo');
    expect(await page.$eval('#field-input', (el) => el.tagName)).toBe('TEXTAREA');
    expect(await page.textContent('label[for="field-input"]')).toBe('Input (JSON)');
    // Pre-filled with the registered example, as JSON.
    expect(await page.inputValue('#field-input')).toBe('"hello from the playground"');

    await page.fill('#field-input', '{"a": [1, 2]}');
    await page.click('#invoke');
    await waitForOutput(page, JSON.stringify({ a: [1, 2] }, null, 2));
    expect((await snapshot(page)).outputClass).toBe('');

    await page.fill('#field-input', '{"a": [1, 2');
    await page.click('#invoke');
    const message = await waitForOutput(page, /JSON/);
    expect(message).toMatch(/not valid JSON/);
    expect((await snapshot(page)).outputClass).toBe('error');
    await page.click('#stream');
    await waitForOutput(page, /not valid JSON/);

    // A valid invoke afterwards: its request is the second, so the invalid ones sent nothing.
    await page.fill('#field-input', '"fixed"');
    await page.click('#invoke');
    await waitForOutput(page, 'fixed');
    expect((await snapshot(page)).outputClass).toBe('');
    expect(posts(requests, 'invoke')).toHaveLength(2);
    expect(posts(requests, 'stream')).toHaveLength(0);
  });

  it('auth on: the page loads without a key, shows the key field, 401 without it, works with it', async () => {
    const { page, requests } = await open(authGw, 'chat');
    expect(await page.isVisible('#api-key')).toBe(true);
    expect(await page.getAttribute('#api-key', 'type')).toBe('password');

    // input_schema needs the key too: the page says so and falls back to a JSON textarea.
    await waitForOutput(page, /^Could not load the input schema \(401: Missing API key/);
    expect(await page.textContent('label[for="field-input"]')).toBe('Input (JSON)');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/chat/invoke')), page.click('#invoke')]);
    await waitForOutput(page, /^401: Missing API key/);
    expect((await snapshot(page)).outputClass).toBe('error');
    const unauthenticated = posts(requests, 'invoke').length;
    expect(unauthenticated).toBe(1);

    await page.fill('#api-key', 'k1');
    // Once a key is given, the page loads the schema it could not fetch without one.
    await page.press('#api-key', 'Tab');
    await page.waitForSelector('#field-history', { state: 'attached' });
    expect(await page.textContent('label[for="field-input"]')).toBe('input');
    await page.click('#mode-form');
    await page.fill('#field-input', 'with a key');
    await page.click('#invoke');
    await waitForOutput(page, `${CHAT_PREFIX}with a key`);
    expect((await snapshot(page)).outputClass).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('runnel-api-key'))).toBe('k1');

    // A reload keeps the key (sessionStorage) and renders the schema form straight away.
    await page.reload();
    await page.waitForSelector('#field-history', { state: 'attached' });
    expect(await page.inputValue('#api-key')).toBe('k1');
    expect(await page.inputValue('#field-input')).toBe('What is LangServe?');
    expect((await snapshot(page)).output).toBe('');

    await page.fill('#api-key', 'wrong');
    await page.click('#mode-form');
    await page.click('#invoke');
    await waitForOutput(page, '401: Invalid API key');
  });

  it('shows a server validation error (422) with its detail', async () => {
    const { page, requests } = await open(gw, 'chat');
    await page.click('#mode-form');
    await page.fill('#field-input', '');
    await page.click('#invoke');
    const text = await waitForOutput(page, /^422: /);
    expect(text).toMatch(/input/);
    expect(text).toMatch(/must not be empty/);
    expect((await snapshot(page)).outputClass).toBe('error');
    expect(posts(requests, 'invoke')).toHaveLength(1);
  });

  it('talks to no origin but the gateway (no CDN), and runs without script errors or CSP violations', async () => {
    const { page, requests } = await open(gw, 'chat');
    await page.click('#mode-form');
    await page.fill('#field-input', 'origins');
    await page.click('#invoke');
    await waitForOutput(page, `${CHAT_PREFIX}origins`);
    await page.click('#stream');
    await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').startsWith('done'));

    const paths = requests.map((r) => `${r.method} ${r.url.slice(gw.url.length)}`);
    // The two schema fetches run at once: their order is not fixed.
    expect([paths[0], ...paths.slice(1, 3).sort(), ...paths.slice(3)]).toEqual([
      'GET /chat/playground',
      'GET /chat/config_schema',
      'GET /chat/input_schema',
      'POST /chat/invoke',
      'POST /chat/stream',
    ]);
    // …and every page any test above opened.
    expect(allRequests.length).toBeGreaterThan(requests.length);
    for (const r of allRequests) expect(r.url.startsWith(`${r.gateway}/`)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
