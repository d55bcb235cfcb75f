import { CHAT_SCRIPT } from './client-chat';
import { CONFIG_EDITOR_SCRIPT } from './client-config-editor';
import { LZ_STRING_SCRIPT } from './client-lz-string';
import { MAIN_SCRIPT } from './client-main';
import { RUN_TREE_SCRIPT } from './client-run-tree';
import { SNIPPETS_SCRIPT } from './client-snippets';
import { PLAYGROUND_STYLES } from './playground-styles';

export interface PlaygroundPageOptions {
  /** The runnable's path, shown as its name. */
  path: string;
  /** Base URL path the page was addressed under (mount prefix and any `c/{hash}` part included). */
  basePath: string;
  /** The runnable's base path without the `c/{hash}` part: where the page sends its calls. */
  runBasePath?: string;
  description?: string;
  exampleInput?: unknown;
  authRequired: boolean;
  /** The config decoded from a `c/{hash}` share link: the editor starts with it. */
  shareConfig?: Record<string, unknown>;
}

/**
 * The playground: one self-contained page per runnable (no CDN, no build step). It reads the
 * runnable's input and config schemas and offers a form or — when the input is made of messages — a
 * chat, a config editor, invoke / stream / stream_log (intermediate steps as a tree), a `c/{hash}`
 * share link of the current config, and "copy as" curl / RemoteRunnable snippets. When the gateway
 * requires an API key the page asks for it and keeps it in sessionStorage only.
 *
 * The page script is plain JS kept in one file per concept (client-*.ts) and inlined in one
 * <script>: the CSP allows inline script and same-origin fetches only.
 */
export function playgroundPage(opts: PlaygroundPageOptions): string {
  const boot = JSON.stringify({
    path: opts.path,
    basePath: opts.basePath,
    runBasePath: opts.runBasePath ?? opts.basePath,
    description: opts.description ?? '',
    example: opts.exampleInput ?? null,
    authRequired: opts.authRequired,
    shareConfig: opts.shareConfig ?? null,
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.path)} · Runnel playground</title>
<style>${PLAYGROUND_STYLES}</style>
</head>
<body>
<header>
<h1>Playground: <code id="runnable-name"></code></h1>
<p class="muted" id="description"></p>
</header>
<section id="share-banner" class="banner" hidden>Opened from a share link: the config below is the one that was shared.</section>
<div class="layout">
<main>
  <section id="auth" hidden>
    <label for="api-key">API key</label>
    <input type="password" id="api-key" name="api-key" autocomplete="off" placeholder="sent as Authorization: Bearer …">
  </section>
  <fieldset class="mode">
    <legend>Mode</legend>
    <label><input type="radio" name="mode" id="mode-form" value="form" checked> Form</label>
    <label><input type="radio" name="mode" id="mode-chat" value="chat"> Chat</label>
  </fieldset>
  <form id="input-form" autocomplete="off" aria-label="Input">
    <div id="fields"><p class="muted">Loading input schema…</p></div>
    <button type="submit" id="invoke">Invoke</button>
    <button type="button" id="stream" class="secondary">Stream</button>
    <button type="button" id="stream-log" class="secondary">Run with steps</button>
  </form>
  <section id="chat" aria-label="Chat" hidden>
    <ol id="chat-log" aria-live="polite" aria-label="Messages"></ol>
    <form id="chat-form" autocomplete="off">
      <label for="chat-input">Message</label>
      <textarea id="chat-input" name="chat-input" placeholder="Enter sends, Shift+Enter adds a line"></textarea>
      <button type="submit" id="chat-send">Send</button>
      <button type="button" id="chat-clear" class="secondary">New chat</button>
    </form>
  </section>
  <details class="panel" id="config-panel" open>
    <summary>Config</summary>
    <div id="config-fields"><p class="muted">Loading config schema…</p></div>
  </details>
</main>
<aside>
  <section aria-labelledby="output-heading">
    <h2 id="output-heading">Output</h2> <span class="muted" id="status" role="status"></span>
    <pre id="output" aria-live="polite" aria-labelledby="output-heading"></pre>
  </section>
  <section aria-labelledby="steps-heading">
    <h2 id="steps-heading">Intermediate steps</h2>
    <div id="steps" aria-labelledby="steps-heading"><p class="muted">Use “Run with steps” to see every run inside this one.</p></div>
  </section>
  <section aria-labelledby="share-heading">
    <h2 id="share-heading">Share</h2>
    <div class="row">
      <div><label for="share-link">Link to this playground with the current config</label>
      <input type="url" id="share-link" readonly></div>
      <button type="button" id="share-copy" class="secondary">Copy link</button>
    </div>
    <p class="muted hint"><a id="share-open" href="#">Open the link</a> <span id="share-note" role="status"></span></p>
  </section>
  <section aria-labelledby="snippet-heading">
    <h2 id="snippet-heading">Copy as</h2>
    <div class="row">
      <div><label for="snippet-kind">Snippet of the current invoke request</label>
      <select id="snippet-kind">
        <option value="curl">curl</option>
        <option value="js">JavaScript (RemoteRunnable)</option>
        <option value="python">Python (langserve RemoteRunnable)</option>
      </select></div>
      <button type="button" id="snippet-copy" class="secondary">Copy snippet</button>
    </div>
    <pre id="snippet" aria-label="Snippet"></pre>
    <p class="muted hint">The API key is read from the RUNNEL_API_KEY environment variable; the page never writes your key into a snippet. <span id="snippet-note" role="status"></span></p>
  </section>
</aside>
</div>
<script>
const BOOT = ${boot};
${LZ_STRING_SCRIPT}
${SNIPPETS_SCRIPT}
${CHAT_SCRIPT}
${CONFIG_EDITOR_SCRIPT}
${RUN_TREE_SCRIPT}
${MAIN_SCRIPT}
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
