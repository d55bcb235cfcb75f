/**
 * What a caller may call: a list of `<runnable>:<endpoint>` scopes.
 *
 * - `<runnable>` is a runnable path (`echo`, `agents/support`; a leading `/` is accepted and ignored),
 *   `*` for any path (multi-segment ones included), or a prefix ending in `/*` (`agents/*`: every path
 *   below `agents/`, at any depth, but not `agents` itself nor `agentsX/...`).
 * - `<endpoint>` is an endpoint name (invoke, batch, stream, stream_log, stream_events, input_schema,
 *   output_schema, config_schema, playground), `*` for any, or a group: `run` (invoke, batch, stream,
 *   stream_log, stream_events) or `schema` (input_schema, output_schema, config_schema).
 *
 * The same grammar is used in the API keys file and in a JWT's `scope` / `scp` claim.
 */

const RUN = ['invoke', 'batch', 'stream', 'stream_log', 'stream_events'] as const;
const SCHEMA = ['input_schema', 'output_schema', 'config_schema'] as const;
/** The endpoints a request can be for. `config_hashes` is an option of a route (its `c/{hash}` URLs), not something called. */
export const SCOPE_ENDPOINTS: readonly string[] = [...RUN, ...SCHEMA, 'playground'];
const GROUPS: Readonly<Record<string, readonly string[]>> = { run: RUN, schema: SCHEMA };

// The segments a registered route path may have (resolveRoute's pattern, per segment).
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Thrown by `parseScopes` for an entry outside the grammar; the message names the entry and where it came from. */
export class ScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScopeError';
  }
}

interface Rule {
  /** 'any': every path; 'exact': `path` only; 'prefix': paths starting with `path` + '/'. */
  readonly match: 'any' | 'exact' | 'prefix';
  readonly path: string;
  /** undefined: every endpoint. */
  readonly endpoints: ReadonlySet<string> | undefined;
}

/** A parsed scope list. Immutable; `allows` is what the authorize guard asks. */
export class Scopes {
  static readonly none = new Scopes([], []);
  static readonly all = new Scopes([{ match: 'any', path: '', endpoints: undefined }], ['*:*']);

  private constructor(
    private readonly rules: readonly Rule[],
    /** The scopes as written (normalised), for logs and error messages. */
    readonly list: readonly string[],
  ) {}

  /** @internal used by parseScopes */
  static of(rules: readonly Rule[], list: readonly string[]): Scopes {
    return rules.length === 0 ? Scopes.none : new Scopes(rules, list);
  }

  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  /** Whether a caller with these scopes may call `endpoint` on the runnable at `runnablePath` (no leading slash). */
  allows(runnablePath: string, endpoint: string): boolean {
    for (const rule of this.rules) {
      if (rule.endpoints !== undefined && !rule.endpoints.has(endpoint)) continue;
      if (rule.match === 'any') return true;
      if (rule.match === 'exact' ? runnablePath === rule.path : runnablePath.startsWith(rule.path)) return true;
    }
    return false;
  }

  toString(): string {
    return this.list.join(' ');
  }
}

/** One scope, or a reason it is not one (the reason does not repeat the entry). */
function parseScope(raw: string): Rule | string {
  const scope = raw.trim();
  const colon = scope.lastIndexOf(':');
  if (colon < 0) return 'has no ":" (write <runnable>:<endpoint>, e.g. "echo:invoke" or "agents/*:run")';
  const endpointPart = scope.slice(colon + 1);
  let pathPart = scope.slice(0, colon);
  let endpoints: ReadonlySet<string> | undefined;
  if (endpointPart !== '*') {
    const group = GROUPS[endpointPart];
    if (group) endpoints = new Set(group);
    else if (SCOPE_ENDPOINTS.includes(endpointPart)) endpoints = new Set([endpointPart]);
    else return `names no endpoint: "${endpointPart}" is not one of *, run, schema, ${SCOPE_ENDPOINTS.join(', ')}`;
  }
  if (pathPart.startsWith('/')) pathPart = pathPart.slice(1);
  if (pathPart === '*') return { match: 'any', path: '', endpoints };
  let match: Rule['match'] = 'exact';
  if (pathPart.endsWith('/*')) {
    match = 'prefix';
    pathPart = pathPart.slice(0, -2);
  }
  if (pathPart === '') return 'names no runnable (write a path such as "echo" or "agents/support", "agents/*" or "*")';
  if (!pathPart.split('/').every((s) => SEGMENT.test(s))) {
    return 'has a runnable path that is not one: segments of letters, digits, "_" and "-" separated by "/", optionally ending in "/*", or "*" alone';
  }
  return { match, path: match === 'prefix' ? `${pathPart}/` : pathPart, endpoints };
}

function normalise(rule: Rule, raw: string): string {
  const endpoint = raw.trim().slice(raw.trim().lastIndexOf(':') + 1);
  const path = rule.match === 'any' ? '*' : rule.match === 'prefix' ? `${rule.path}*` : rule.path;
  return `${path}:${endpoint}`;
}

/**
 * Parses a scope list, refusing the first entry outside the grammar.
 * @param where names the list's source for the error message, e.g. `GATEWAY_API_KEYS_FILE /etc/keys.json, key 2 ("support-bot")`.
 * @throws ScopeError naming the entry and `where`.
 */
export function parseScopes(list: readonly unknown[], where: string): Scopes {
  const rules: Rule[] = [];
  const written: string[] = [];
  list.forEach((raw, i) => {
    if (typeof raw !== 'string') throw new ScopeError(`${where}: scope ${i + 1} is not a string`);
    const rule = parseScope(raw);
    if (typeof rule === 'string') throw new ScopeError(`${where}: scope ${JSON.stringify(raw)} ${rule}`);
    rules.push(rule);
    written.push(normalise(rule, raw));
  });
  return Scopes.of(rules, written);
}

/**
 * Scopes from a token's claim, where entries for other services are normal (`openid`, `email`,
 * `read:users`…): those are skipped, not an error, and returned in `ignored` for a debug log.
 */
export function parseTokenScopes(list: readonly string[]): { scopes: Scopes; ignored: string[] } {
  const rules: Rule[] = [];
  const written: string[] = [];
  const ignored: string[] = [];
  for (const raw of list) {
    if (raw === '') continue;
    const rule = parseScope(raw);
    if (typeof rule === 'string') ignored.push(raw);
    else {
      rules.push(rule);
      written.push(normalise(rule, raw));
    }
  }
  return { scopes: Scopes.of(rules, written), ignored };
}
