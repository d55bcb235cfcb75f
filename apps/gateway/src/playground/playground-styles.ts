/** The page's stylesheet: two columns (request | results) from 900 px, one column below; no fixed widths. */
export const PLAYGROUND_STYLES = String.raw`
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
* { box-sizing: border-box; }
body { max-width: 1240px; margin: 1.2rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; overflow-wrap: anywhere; }
h2 { font-size: 1rem; margin: 0 0 .5rem; display: inline-block; }
.muted { color: #5b6475; }
.hint { font-size: .85rem; margin: .2rem 0 0; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 1rem; align-items: start; }
@media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
form, section, fieldset, details.panel { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: .8rem 1rem; margin: 0 0 1rem; min-width: 0; }
fieldset.mode { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
fieldset.mode legend { font-weight: 600; padding: 0 .3rem; }
fieldset.mode label { display: inline; font-weight: 400; margin: 0; }
details.panel > summary { font-weight: 600; cursor: pointer; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
input[type=text], input[type=number], input[type=password], input[type=url], textarea, select { width: 100%; font: inherit; padding: .4rem; border: 1px solid #c5cbd6; border-radius: 4px; background: #fff; color: inherit; }
textarea { min-height: 4.5rem; font-family: ui-monospace, monospace; }
[aria-invalid=true] { border-color: #b3261e; }
button { font: inherit; padding: .45rem 1rem; margin: .8rem .5rem 0 0; border-radius: 4px; border: 1px solid #2f5bd3; background: #2f5bd3; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #2f5bd3; }
button:disabled { opacity: .6; cursor: wait; }
button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, summary:focus-visible { outline: 2px solid #2f5bd3; outline-offset: 2px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f0f2f5; padding: .8rem; border-radius: 4px; min-height: 2rem; margin: .4rem 0 0; font-size: .9rem; }
.error { color: #b3261e; }
.banner { background: #e8efff; border-color: #b8c8f5; }
#chat-form { border: 0; padding: 0; margin: .6rem 0 0; background: none; }
#chat-log { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: .5rem; max-height: 26rem; overflow-y: auto; }
#chat-log:empty::before { content: 'No messages yet.'; color: #5b6475; }
.msg { padding: .5rem .7rem; border-radius: 8px; max-width: 92%; overflow-wrap: anywhere; white-space: pre-wrap; }
.msg .role { display: block; font-size: .75rem; font-weight: 600; color: #5b6475; }
.msg-human { align-self: flex-end; background: #2f5bd3; color: #fff; }
.msg-human .role { color: #dfe6fb; }
.msg-ai { align-self: flex-start; background: #eef0f4; }
.msg.pending .text:empty::after { content: '…'; }
.msg.error { background: #fbe9e7; color: #b3261e; }
.run { margin: .2rem 0; }
.run > summary { cursor: pointer; overflow-wrap: anywhere; }
.run-name { font-weight: 600; font-family: ui-monospace, monospace; }
.run-children { list-style: none; margin: 0; padding-left: 1.1rem; border-left: 2px solid #dde1e8; }
.badge { font-size: .75rem; padding: .05rem .4rem; border-radius: 999px; background: #eef0f4; color: #3b4456; }
.status-done { background: #e3f4e8; color: #1e6b34; }
.status-running { background: #fff4d6; color: #7a5600; }
.status-failed { background: #fbe9e7; color: #b3261e; }
.row { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; }
.row > :first-child { flex: 1 1 12rem; min-width: 0; }
.row button { margin-top: 0; }
`;
