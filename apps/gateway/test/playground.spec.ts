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

// Each test drives a browser through several runs; generous for shared, busy machines.
jest.setTimeout(30_000);

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
  // `left` finishes only after `right` has (it waits for right-2, then a little longer), so the two
  // branches' spans overlap with `left` holding all of `right`'s: the case the page must not mis-nest.
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Made fresh by `prepare`, which runs before either branch starts.
  const gate = () => {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };
  let rightDone = gate();
  const step = (name: string, fn: (x: any) => unknown, before?: () => Promise<unknown>) =>
    RunnableLambda.from(async (x: any) => {
      await before?.();
      return fn(x);
    }).withConfig({ runName: name });
  const inner = RunnableSequence.from([step('inner-a', (x: string) => `${x}+a`), step('inner-b', (x: string) => `${x}+b`)]).withConfig({ runName: 'inner' });
  const branches = RunnableParallel.from({
    left: step('left', (x: string) => `${x}<`, async () => {
      await rightDone.promise;
      await pause(20);
    }),
    right: RunnableSequence.from([
      step('right-1', (x: string) => `${x}>`),
      step('right-2', (x: string) => {
        setImmediate(() => rightDone.resolve());
        return `${x}>`;
      }),
    ]).withConfig({ runName: 'right' }),
  });
  const prepare = step('prepare', (x: string) => {
    rightDone = gate();
    return x.trim();
  });
  r.addRoutes(RunnableSequence.from([prepare, inner, branches]), { path: 'nested' });
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
    // The 401's detail is the server's own (whatever it says); the page shows it.
    await waitForOutput(page, /^Could not load the input schema \(401: \S/);
    expect(await page.textContent('label[for="field-input"]')).toBe('Input (JSON)');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/chat/invoke')), page.click('#invoke')]);
    await waitForOutput(page, /^401: \S/);
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
    await waitForOutput(page, /^401: \S/);
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

  /** Waits for #status to read `text` exactly. */
  const waitForStatus = (page: Page, text: string | RegExp) =>
    page.waitForFunction(
      (e: { s?: string; re?: string }) => {
        const t = document.getElementById('status')?.textContent ?? '';
        return e.s !== undefined ? t === e.s : new RegExp(e.re as string).test(t);
      },
      typeof text === 'string' ? { s: text } : { re: text.source },
      { polling: 10 },
    );

  /** Records the text of the newest reply bubble at every change, and whether it was still pending. */
  const watchReplies = (page: Page) =>
    page.evaluate(() => {
      const seen: { text: string; pending: boolean }[] = [];
      (window as unknown as { __replies: typeof seen }).__replies = seen;
      const log = document.getElementById('chat-log') as HTMLElement;
      new MutationObserver(() => {
        const last = Array.from(log.querySelectorAll('.msg-ai')).at(-1);
        if (last) seen.push({ text: last.querySelector('.text')?.textContent ?? '', pending: last.classList.contains('pending') });
      }).observe(log, { childList: true, characterData: true, subtree: true });
    });
  const replies = (page: Page) => page.evaluate(() => (window as unknown as { __replies: { text: string; pending: boolean }[] }).__replies);

  const chatLog = (page: Page) =>
    page.$$eval('#chat-log .msg', (els) => els.map((el) => [el.classList.contains('msg-human') ? 'human' : 'ai', el.querySelector('.text')?.textContent ?? '']));

  it('chat mode on `chat` ({input, history}): two turns, each reply streamed token by token, history sent on the second', async () => {
    const { page, requests } = await open(gw, 'chat');
    expect(await page.isChecked('#mode-chat')).toBe(true);
    expect(await page.isHidden('#input-form')).toBe(true);
    await watchReplies(page);

    await page.fill('#chat-input', 'first turn');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (2 messages)');
    const first = `${CHAT_PREFIX}first turn`;
    // The reply was on screen in pieces before it was complete.
    const partial = (await replies(page)).filter((r) => r.pending && r.text !== '' && r.text !== first);
    expect(partial.length).toBeGreaterThan(1);
    for (const r of partial) expect(first.startsWith(r.text)).toBe(true);
    expect(await page.inputValue('#chat-input')).toBe('');

    // Enter sends too.
    await page.fill('#chat-input', 'second turn');
    await page.press('#chat-input', 'Enter');
    await waitForStatus(page, 'done (4 messages)');
    const second = `${CHAT_PREFIX}second turn`;
    expect(await chatLog(page)).toEqual([
      ['human', 'first turn'],
      ['ai', first],
      ['human', 'second turn'],
      ['ai', second],
    ]);
    const streams = posts(requests, 'stream');
    expect(streams).toHaveLength(2);
    expect(streams[0].body).toEqual({ input: { input: 'first turn', history: [] }, config: {} });
    expect(streams[1].body.input).toEqual({
      input: 'second turn',
      history: [
        { type: 'human', content: 'first turn' },
        { type: 'ai', content: first },
      ],
    });

    // New chat forgets the history.
    await page.click('#chat-clear');
    expect(await chatLog(page)).toEqual([]);
    await page.fill('#chat-input', 'fresh');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (2 messages)');
    expect(posts(requests, 'stream')[2].body.input).toEqual({ input: 'fresh', history: [] });
  });

  it('chat mode on a message-list runnable that streams AIMessageChunks; a failed turn stays out of the history', async () => {
    const { page, requests } = await open(gw, 'model');
    expect(await page.isChecked('#mode-chat')).toBe(true);
    await watchReplies(page);
    await page.fill('#chat-input', 'one');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (2 messages)');
    expect((await replies(page)).filter((r) => r.pending && r.text !== '').length).toBeGreaterThan(1);
    await page.fill('#chat-input', 'two');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (4 messages)');
    expect(await chatLog(page)).toEqual([
      ['human', 'one'],
      ['ai', `${CHAT_PREFIX}one`],
      ['human', 'two'],
      ['ai', `${CHAT_PREFIX}two`],
    ]);
    expect(posts(requests, 'stream')[1].body.input).toEqual([
      { type: 'human', content: 'one' },
      { type: 'ai', content: `${CHAT_PREFIX}one` },
      { type: 'human', content: 'two' },
    ]);

    // A config the server refuses: the reply bubble shows the server's detail, the text goes back to the composer.
    await page.fill('#config-extra', '{"configurable": "not an object"}');
    await page.fill('#chat-input', 'three');
    await page.click('#chat-send');
    await page.waitForSelector('#chat-log .msg.error');
    expect(await page.textContent('#chat-log .msg.error .text')).toMatch(/^422: /);
    expect(await page.inputValue('#chat-input')).toBe('three');
    await page.fill('#config-extra', '');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (6 messages)');
    // The failed turn was not sent as history.
    expect(posts(requests, 'stream').at(-1)!.body.input).toHaveLength(5);
  });

  it('config editor: a field per configurable property; the values chosen reach the run; a bad one shows the 422 detail', async () => {
    const { page, requests } = await open(gw, 'styled');
    const kinds = await page.$$eval('#config-fields [id^="config-"]:is(input, select, textarea)', (els) =>
      els.map((el) => [el.id, el.tagName, (el as HTMLInputElement).type]),
    );
    expect(kinds).toEqual([
      ['config-configurable-style', 'SELECT', 'select-one'],
      ['config-configurable-times', 'INPUT', 'number'],
      ['config-configurable-shout', 'SELECT', 'select-one'],
      ['config-configurable-suffix', 'INPUT', 'text'],
      ['config-configurable-extra', 'TEXTAREA', 'textarea'],
      ['config-extra', 'TEXTAREA', 'textarea'],
    ]);
    expect(await page.$$eval('#config-configurable-style option', (os) => os.map((o) => o.textContent))).toEqual(['(default: plain)', 'plain', 'fancy']);
    // Every field has a label; the description is the field's hint.
    for (const [id] of kinds) expect(await page.textContent(`label[for="${id}"]`)).toBeTruthy();
    expect(await page.getAttribute('#config-configurable-style', 'aria-describedby')).toBe('config-configurable-style-hint');
    expect(await page.textContent('#config-configurable-style-hint')).toBe('How to answer');

    // Nothing chosen: no configurable sent, the run sees {}.
    await page.fill('#field-input', '"plain run"');
    await page.click('#invoke');
    expect(JSON.parse(await waitForOutput(page, /plain run/))).toEqual({ input: 'plain run', configurable: {} });

    await page.selectOption('#config-configurable-style', { label: 'fancy' });
    await page.fill('#config-configurable-times', '3');
    await page.selectOption('#config-configurable-shout', 'true');
    await page.fill('#config-configurable-suffix', '!');
    await page.fill('#config-configurable-extra', '{"a": 1}');
    await page.fill('#field-input', '"configured"');
    await page.click('#invoke');
    const expected = { style: 'fancy', times: 3, shout: true, suffix: '!', extra: { a: 1 } };
    expect(JSON.parse(await waitForOutput(page, /configured/))).toEqual({ input: 'configured', configurable: expected });
    expect(posts(requests, 'invoke').at(-1)!.body.config).toEqual({ configurable: expected });

    // …and on stream and stream_log too.
    await page.click('#stream');
    await waitForStatus(page, /^done/);
    expect(JSON.parse((await snapshot(page)).output).configurable).toEqual(expected);
    expect(posts(requests, 'stream').at(-1)!.body.config).toEqual({ configurable: expected });
    await page.click('#stream-log');
    await waitForStatus(page, /^done/);
    expect(posts(requests, 'stream_log').at(-1)!.body.config).toEqual({ configurable: expected });

    // A value the schema refuses: the server's detail, as an error.
    await page.fill('#config-configurable-times', '1.5');
    await page.click('#invoke');
    const refused = await waitForOutput(page, /^422: /);
    expect(refused).toMatch(/config\.configurable\.times/);
    expect((await snapshot(page)).outputClass).toBe('error');
    // Invalid JSON in a JSON field is caught in the page and sends nothing.
    const before = posts(requests, 'invoke').length;
    await page.fill('#config-configurable-times', '');
    await page.fill('#config-configurable-extra', '{"a": ');
    await page.click('#invoke');
    expect(await waitForOutput(page, /^Config configurable\.extra: not valid JSON/)).toBeTruthy();
    expect(posts(requests, 'invoke')).toHaveLength(before);
  });

  it('stream_log: runs nested by parent (inner sequence, parallel branches), with type, status and output; final output beside', async () => {
    const { page } = await open(gw, 'nested');
    await page.fill('#field-input', '"  x  "');
    await page.click('#stream-log');
    await waitForStatus(page, /^done \(\d+ steps\)$/);
    // The map's keys come in the order its branches finished.
    expect(JSON.parse(await waitForOutput(page, /right/))).toEqual({ left: 'x+a+b<', right: 'x+a+b>>' });

    // The tree as (run, children) from the DOM: each <details> and the <details> directly under its list.
    const tree = await page.evaluate(() => {
      type Node = { run: string; name: string; type: string; status: string; output: string | null; children: Node[] };
      const walk = (d: Element): Node => ({
        run: (d as HTMLElement).dataset.run ?? '',
        name: d.querySelector(':scope > summary .run-name')?.textContent ?? '',
        type: d.querySelector(':scope > summary .badge')?.textContent ?? '',
        status: (d as HTMLElement).dataset.status ?? '',
        output: d.querySelector(':scope > .run-output')?.textContent ?? null,
        children: Array.from(d.querySelectorAll(':scope > ul > li > details')).map(walk),
      });
      return walk(document.querySelector('#steps > details') as Element);
    });
    // Parallel branches start in no fixed order: children compared by name.
    const shape = (n: typeof tree): unknown => [n.name, n.children.map(shape).sort((a: any, b: any) => String(a[0]).localeCompare(String(b[0])))];
    expect(shape(tree)).toEqual([
      '/nested',
      [
        ['inner', [['inner-a', []], ['inner-b', []]]],
        ['prepare', []],
        ['RunnableMap', [['left', []], ['right', [['right-1', []], ['right-2', []]]]]],
      ],
    ]);
    expect(tree.type).toBe('chain');
    expect(tree.status).toBe('done');
    expect(tree.children.map((c) => c.name)).toEqual(['prepare', 'inner', 'RunnableMap']);
    const inner = tree.children[1];
    expect(inner.status).toBe('done');
    expect(inner.output).toBe('x+a+b');
    expect(inner.children[0]).toMatchObject({ name: 'inner-a', output: 'x+a', status: 'done' });
    // Collapsible: a run's details toggle, and a redraw keeps what the user opened or closed.
    const innerA = page.locator('details[data-run="inner-a"]');
    expect(await innerA.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await page.click('details[data-run="inner-a"] > summary');
    expect(await innerA.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await page.isVisible('details[data-run="inner-a"] > .run-output')).toBe(true);
  });

  it('share link: the c/{hash} of the current config; the server decodes it, and the page opened from it starts with that config', async () => {
    const { page } = await open(gw, 'styled');
    const emptyLink = await page.inputValue('#share-link');
    expect(emptyLink).toBe(`${gw.url}/styled/c/${LZString.compressToEncodedURIComponent('{}')}/playground`);
    await page.selectOption('#config-configurable-style', { label: 'fancy' });
    await page.fill('#config-configurable-times', '2');
    await page.fill('#config-configurable-suffix', 'Zoë 😀 & <b>');
    const config = { configurable: { style: 'fancy', times: 2, suffix: 'Zoë 😀 & <b>' } };
    // The link follows the editor once it has settled (it is redrawn shortly after each edit).
    const sharedConfig = async () => {
      const m = /\/c\/([^/]+)\/playground$/.exec(await page.inputValue('#share-link'));
      return m ? JSON.parse(LZString.decompressFromEncodedURIComponent(m[1]) ?? 'null') : null;
    };
    for (let i = 0; i < 100 && JSON.stringify(await sharedConfig()) !== JSON.stringify(config); i++) await page.waitForTimeout(50);
    const link = await page.inputValue('#share-link');
    expect(link).not.toBe(emptyLink);
    const m = new RegExp(`^${gw.url}/styled/c/([A-Za-z0-9+$-]+)/playground$`).exec(link);
    expect(m).not.toBeNull();
    const hash = m![1];
    expect(JSON.parse(LZString.decompressFromEncodedURIComponent(hash))).toEqual(config);
    expect(await page.getAttribute('#share-open', 'href')).toBe(link);

    // The gateway's own decoder takes the page's hash.
    const res = await fetch(`${gw.url}/styled/c/${hash}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": "via hash"}' });
    expect(res.status).toBe(200);
    expect(JSON.parse((await res.json()).output)).toEqual({ input: 'via hash', configurable: config.configurable });

    // Opened from the link: the editor holds the shared config, the page says so, and its calls carry it.
    const shared = await open(gw, 'styled', `/styled/c/${hash}/playground`);
    expect(await shared.page.isVisible('#share-banner')).toBe(true);
    expect(await shared.page.$eval('#config-configurable-style', (el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toBe('fancy');
    expect(await shared.page.inputValue('#config-configurable-times')).toBe('2');
    expect(await shared.page.inputValue('#config-configurable-suffix')).toBe('Zoë 😀 & <b>');
    expect(await shared.page.inputValue('#config-extra')).toBe('');
    await shared.page.waitForFunction((l) => (document.getElementById('share-link') as HTMLInputElement).value === l, link);
    await shared.page.fill('#field-input', '"from the shared page"');
    await shared.page.click('#invoke');
    expect(JSON.parse(await waitForOutput(shared.page, /from the shared page/))).toEqual({ input: 'from the shared page', configurable: config.configurable });
    // Calls go to the runnable itself with the whole config in the body, so clearing a field really unsets it.
    const invokes = posts(shared.requests, 'invoke');
    expect(invokes.map((r) => r.url)).toEqual([`${gw.url}/styled/invoke`]);
    expect(invokes[0].body.config).toEqual(config);
    await shared.page.fill('#config-configurable-times', '');
    await shared.page.click('#invoke');
    await waitForOutput(shared.page, /^(?![\s\S]*"times")[\s\S]*from the shared page/);
    expect(posts(shared.requests, 'invoke')[1].body.config).toEqual({ configurable: { style: 'fancy', suffix: 'Zoë 😀 & <b>' } });

    // A shared config with keys no field covers keeps them, in "Other config".
    const otherHash = LZString.compressToEncodedURIComponent(JSON.stringify({ configurable: { style: 'plain', unknown_key: 1 } }));
    const other = await open(gw, 'styled', `/styled/c/${otherHash}/playground`);
    expect(JSON.parse(await other.page.inputValue('#config-extra'))).toEqual({ configurable: { unknown_key: 1 } });
    expect(await other.page.$eval('#config-configurable-style', (el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toBe('plain');
  });

  it('copy as: curl / JS / Python snippets of the current request with a key placeholder; the curl and JS ones run against the gateway', async () => {
    const { page } = await open(authGw, 'styled');
    await page.fill('#api-key', SECRET_KEY);
    await page.press('#api-key', 'Tab');
    await page.waitForSelector('#config-configurable-style');
    await page.fill('#field-input', '{"question": "it\'s \\"quoted\\"", "n": [1, true, null]}');
    await page.selectOption('#config-configurable-style', { label: 'fancy' });
    await page.fill('#config-configurable-times', '2');
    const input = { question: 'it\'s "quoted"', n: [1, true, null] };
    const configurable = { style: 'fancy', times: 2 };
    const snippet = async (kind: string): Promise<string> => {
      await page.selectOption('#snippet-kind', kind);
      await page.waitForFunction(() => /times/.test(document.getElementById('snippet')?.textContent ?? ''));
      return (await page.textContent('#snippet')) ?? '';
    };

    const curl = await snippet('curl');
    expect(curl).toContain(`'${authGw.url}/styled/invoke'`);
    expect(curl).toContain('$RUNNEL_API_KEY');
    const js = await snippet('js');
    expect(js).toContain(`url: '${authGw.url}/styled'`);
    expect(js).toContain("import { RemoteRunnable } from '@langchain/core/runnables/remote';");
    expect(js).toContain('process.env.RUNNEL_API_KEY');
    const py = await snippet('python');
    expect(py).toContain(`RemoteRunnable(\n    "${authGw.url}/styled",`);
    expect(py).toContain('os.environ["RUNNEL_API_KEY"]');
    expect(py).toContain('"n": [\n        1,\n        True,\n        None,\n    ],');
    expect(py).toContain('config={\n    "configurable": {\n        "style": "fancy",\n        "times": 2,\n    },\n})');
    for (const s of [curl, js, py]) {
      expect(s).not.toContain(SECRET_KEY);
      expect(s).not.toContain('k1');
    }

    const expected = { input, configurable };
    const env = { ...process.env, RUNNEL_API_KEY: SECRET_KEY };
    // curl, as pasted into a shell.
    const fromCurl = await run('sh', ['-c', curl], { env });
    expect(JSON.parse(JSON.parse(fromCurl.stdout).output)).toEqual(expected);
    // Without the variable the gateway refuses it: the key really comes from the environment.
    const noKey = await run('sh', ['-c', curl], { env: { ...process.env, RUNNEL_API_KEY: '' } });
    expect(noKey.stdout).toMatch(/"detail"/);
    expect(noKey.stdout).not.toMatch(/"output"/);
    // JS, as an ES module; @langchain/core 0.3 is installed here as langchain-core-v03.
    const fromJs = await run(process.execPath, ['--input-type=module', '-e', js.replace("'@langchain/core/runnables/remote'", "'langchain-core-v03/runnables/remote'")], {
      env,
      cwd: process.cwd(),
    });
    expect(JSON.parse(fromJs.stdout)).toEqual(expected);
    // Python: valid syntax with those literals (langserve itself is not installed here).
    const parsed = await new Promise<string>((resolve, reject) => {
      const child = execFile('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read()); print("ok")'], (err, stdout) =>
        err ? reject(err) : resolve(stdout.trim()),
      );
      child.stdin?.on('error', () => undefined).end(py);
    });
    expect(parsed).toBe('ok'); // python3 is installed by tools/dev/ensure-deps.sh --test

    // In chat mode the snippet is the next turn's input.
    await page.click('#mode-chat');
    await page.fill('#chat-input', 'snippet turn');
    await page.selectOption('#snippet-kind', 'curl');
    await page.waitForFunction(() => /snippet turn/.test(document.getElementById('snippet')?.textContent ?? ''));
    expect(await page.textContent('#snippet')).toContain('"input":[{"type":"human","content":"snippet turn"}]');
  });

  it('a multi-segment runnable under BASE_PATH: every call, the share link and the snippets keep the prefix', async () => {
    const prefixed = await startTestGateway(
      { BASE_PATH: '/api/v1', GATEWAY_API_KEYS: SECRET_KEY },
      {
        register: (r) =>
          r.addRoutes(
            RunnableLambda.from((input: unknown, config) => JSON.stringify({ input, configurable: config?.configurable ?? {} })),
            { path: 'agents/support', configurableSchema: STYLED_CONFIGURABLE },
          ),
      },
    );
    try {
      const base = '/api/v1/agents/support';
      const { page, requests } = await open(prefixed, 'agents/support', `${base}/playground`);
      expect(await page.textContent('#runnable-name')).toBe('agents/support');
      await page.fill('#api-key', SECRET_KEY);
      await page.press('#api-key', 'Tab');
      await page.waitForSelector('#config-configurable-style');
      await page.selectOption('#config-configurable-style', { label: 'fancy' });
      await page.fill('#field-input', '"prefixed"');
      await page.click('#invoke');
      expect(JSON.parse(await waitForOutput(page, /prefixed/))).toEqual({ input: 'prefixed', configurable: { style: 'fancy' } });
      await page.click('#stream-log');
      await waitForStatus(page, /^done/);

      await page.waitForFunction(() => /style/.test(document.getElementById('snippet')?.textContent ?? ''));
      const link = await page.inputValue('#share-link');
      const hash = new RegExp(`^${prefixed.url}${base}/c/([^/]+)/playground$`).exec(link)?.[1];
      expect(hash).toBeDefined();
      expect(JSON.parse(LZString.decompressFromEncodedURIComponent(hash!))).toEqual({ configurable: { style: 'fancy' } });
      const curl = (await page.textContent('#snippet')) ?? '';
      expect(curl).toContain(`'${prefixed.url}${base}/invoke'`);
      const fromCurl = await run('sh', ['-c', curl], { env: { ...process.env, RUNNEL_API_KEY: SECRET_KEY } });
      expect(JSON.parse(JSON.parse(fromCurl.stdout).output)).toEqual({ input: 'prefixed', configurable: { style: 'fancy' } });

      // Every call the page made stayed under the prefix and the runnable's full path.
      for (const r of requests) expect(r.url.startsWith(`${prefixed.url}${base}/`)).toBe(true);
      expect(requests.map((r) => r.url.slice(prefixed.url.length + base.length)).filter((p) => p !== '/input_schema' && p !== '/config_schema')).toEqual([
        '/playground',
        '/invoke',
        '/stream_log',
      ]);

      const shared = await open(prefixed, 'agents/support', `${base}/c/${hash}/playground`);
      await shared.page.fill('#api-key', SECRET_KEY);
      await shared.page.press('#api-key', 'Tab');
      await shared.page.waitForSelector('#config-configurable-style');
      expect(await shared.page.$eval('#config-configurable-style', (el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toBe('fancy');
      await shared.page.fill('#field-input', '"shared prefixed"');
      await shared.page.click('#invoke');
      expect(JSON.parse(await waitForOutput(shared.page, /shared prefixed/))).toEqual({ input: 'shared prefixed', configurable: { style: 'fancy' } });
      expect(posts(shared.requests, 'invoke').map((r) => r.url)).toEqual([`${prefixed.url}${base}/invoke`]);
    } finally {
      await Promise.all(pages.splice(0).map((p) => p.close()));
      await prefixed.close();
    }
  });

  it('renders with content at 1280×800 and at 400 px wide (screenshots decoded), no sideways scrolling', async () => {
    const { page } = await open(gw, 'chat');
    await page.fill('#chat-input', 'screenshot turn');
    await page.click('#chat-send');
    await waitForStatus(page, 'done (2 messages)');
    for (const [width, height] of [
      [1280, 800],
      [400, 800],
    ]) {
      await page.setViewportSize({ width, height });
      const png = await page.screenshot();
      if (process.env.PLAYGROUND_SCREENSHOT) await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT.replace(/\.png$/, `-${width}.png`), fullPage: true });
      const stats = pixelStats(png);
      expect([stats.width, stats.height]).toEqual([width, height]);
      // Text, buttons, bubbles: many colours (anti-aliased text alone gives dozens), and a real share of non-background pixels.
      expect(stats.colours).toBeGreaterThan(50);
      expect(stats.foreground).toBeGreaterThan(0.1);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      for (const id of ['#chat-input', '#chat-send', '#api-key', '#config-panel', '#output', '#share-link', '#snippet-kind']) {
        if (id === '#api-key') continue; // auth is off on this gateway
        const box = await page.locator(id).boundingBox();
        expect(box).not.toBeNull();
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      }
    }
    // At 400 px the columns stack: the output is below the chat, not beside it.
    const chat = (await page.locator('#chat').boundingBox())!;
    const output = (await page.locator('#output').boundingBox())!;
    expect(output.y).toBeGreaterThan(chat.y + chat.height);
    // Every form control has an accessible name.
    const unnamed = await page.$$eval('input, select, textarea, button', (els) =>
      els
        .filter((el) => (el as HTMLElement).offsetParent !== null && el.getAttribute('type') !== 'radio')
        .filter((el) => !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent?.trim())))
        .map((el) => el.id),
    );
    expect(unnamed).toEqual([]);
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
