/**
 * Page script: chat mode. Finds out from the input schema whether the runnable takes messages —
 * a list of messages, an object with a `messages` list, or a text field beside a message-list
 * history (the built-in `chat`: `{input, history}`) — builds each turn's input from the history
 * kept in the page, and reads a reply's text out of whatever the runnable streams: strings,
 * message chunks as LangServe writes them (`{content, type: 'AIMessageChunk', …}`), or LangChain's
 * constructor form (`{lc: 1, type: 'constructor', id: [… 'AIMessageChunk'], kwargs: {content}}`).
 */
export const CHAT_SCRIPT = String.raw`
function derefSchema(s, root) {
  for (var i = 0; i < 16 && s && typeof s.$ref === 'string'; i++) {
    var m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    s = m && root && root[m[1]] ? root[m[1]][m[2]] : null;
  }
  return s || null;
}

// The one non-null alternative of an optional field (anyOf: [X, {type: null}]), or the schema itself.
function mainAlternative(s, root) {
  s = derefSchema(s, root);
  var alts = s && (s.anyOf || s.oneOf);
  if (alts) {
    var real = alts.map(function (a) { return derefSchema(a, root); }).filter(function (a) { return a && a.type !== 'null'; });
    if (real.length === 1) return real[0];
  }
  return s;
}

// depth: a schema may reference itself through anyOf; a few levels is all a message union needs.
function isMessageSchema(s, root, depth) {
  depth = depth || 0;
  s = derefSchema(s, root);
  if (!s || depth > 8) return false;
  var alts = s.anyOf || s.oneOf;
  if (Array.isArray(alts)) return alts.some(function (a) { return isMessageSchema(a, root, depth + 1); });
  var p = s.properties;
  return !!p && !!p.content && !!(p.type || p.role);
}

function roleKeyOf(items, root) {
  var s = derefSchema(items, root);
  var alts = s && (s.anyOf || s.oneOf);
  if (alts) s = derefSchema(alts.find(function (a) { return isMessageSchema(a, root); }), root);
  return s && s.properties && s.properties.role && !s.properties.type ? 'role' : 'type';
}

function isMessageList(s, root) {
  s = mainAlternative(s, root);
  return !!s && s.type === 'array' && !!s.items && isMessageSchema(s.items, root);
}

/** null when the input is not made of messages. */
function detectChatShape(schema) {
  var s = mainAlternative(schema, schema);
  if (!s) return null;
  if (isMessageList(s, schema)) return { kind: 'list', roleKey: roleKeyOf(s.items, schema) };
  if (s.type !== 'object' || !s.properties) return null;
  var props = s.properties;
  var keys = Object.keys(props);
  if (props.messages && (mainAlternative(props.messages, schema) || {}).type === 'array') {
    var items = mainAlternative(props.messages, schema).items;
    return { kind: 'messages', key: 'messages', roleKey: items ? roleKeyOf(items, schema) : 'type' };
  }
  var historyKey = keys.find(function (k) { return isMessageList(props[k], schema); });
  var inputKey = keys.find(function (k) { return (mainAlternative(props[k], schema) || {}).type === 'string'; });
  if (historyKey && inputKey) return { kind: 'input+history', inputKey: inputKey, historyKey: historyKey, roleKey: roleKeyOf(mainAlternative(props[historyKey], schema).items, schema) };
  return null;
}

function chatMessage(shape, role, content) {
  if (shape.roleKey === 'role') return { role: role === 'human' ? 'user' : 'assistant', content: content };
  return { type: role, content: content };
}

function chatTurnInput(shape, history, text) {
  if (shape.kind === 'input+history') {
    var input = {};
    input[shape.inputKey] = text;
    input[shape.historyKey] = history.slice();
    return input;
  }
  var messages = history.concat([chatMessage(shape, 'human', text)]);
  return shape.kind === 'messages' ? { messages: messages } : messages;
}

function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map(function (part) { return typeof part === 'string' ? part : part && typeof part.text === 'string' ? part.text : ''; }).join('');
  }
  return '';
}

/** The text a streamed chunk adds to the reply, or null when the chunk is not text. */
function chunkText(chunk) {
  if (typeof chunk === 'string') return chunk;
  if (!chunk || typeof chunk !== 'object' || Array.isArray(chunk)) return null;
  if (chunk.lc === 1 && chunk.type === 'constructor' && chunk.kwargs) return contentText(chunk.kwargs.content);
  if ('content' in chunk) return contentText(chunk.content);
  return null;
}

function chatRoleLabel(role) { return role === 'human' ? 'You' : 'Assistant'; }
`;
