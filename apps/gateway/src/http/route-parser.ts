import { type Endpoint, isEndpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';
import { MAX_CONFIG_HASH_CHARS } from '../protocol/input-bounds';

/** The routes a parser can look paths up in: the registry, or any map of path → route. */
export interface RouteTable {
  get(path: string): ResolvedRoute | undefined;
  readonly paths: readonly string[];
  /** Segments in the longest registered path (`agents/support` is 2), bounding the lookups per request. */
  readonly maxSegments: number;
}

/** Pages and documents of the gateway itself, served under BASE_PATH. */
export type ServicePage = 'index' | 'openapi' | 'docs';

export type RouteMatch =
  | {
      kind: 'runnable';
      route: ResolvedRoute;
      endpoint: Exclude<Endpoint, 'config_hashes'>;
      /** The `{hash}` of a `…/c/{hash}/…` path, still encoded; checked for length only. */
      configHash?: string;
      /** The runnable's URL path as the client addressed it, BASE_PATH and config hash included, no endpoint. */
      addressedPath: string;
    }
  | { kind: 'service'; page: ServicePage }
  | { kind: 'probe'; probe: 'health' | 'ready' }
  | {
      kind: 'miss';
      status: 404 | 414;
      detail: string;
      /** Set when the path is under a runnable's (an unknown or disabled endpoint): the gateway's 404, not another handler's. */
      route?: ResolvedRoute;
    };

const SERVICE_PAGES: Record<string, ServicePage> = { '': 'index', 'openapi.json': 'openapi', docs: 'docs' };

/**
 * Maps a request path (no query string) to what serves it. Pure: no I/O, no request object, so
 * every rule of the URL space is in one place with its spec beside it (route-parser.spec.ts).
 *
 * - `/health` and `/ready` answer at the root whatever BASE_PATH is: probes are configured once per
 *   pod, not per mount.
 * - Under BASE_PATH: `/` (index), `/openapi.json`, `/docs`, and the runnables:
 *   `{path}/{endpoint}` or `{path}/c/{config_hash}/{endpoint}`, where `{path}` may have several
 *   segments (`agents/support`); the longest registered path that prefixes the URL wins, and
 *   registration refuses segments that would be ambiguous (`c`, endpoint names; see resolveRoute).
 * - `playground` may be followed by more segments (LangServe serves its assets below it).
 */
export function parseRoute(path: string, table: RouteTable, basePath = ''): RouteMatch {
  if (path === '/health' || path === '/ready') return { kind: 'probe', probe: path === '/health' ? 'health' : 'ready' };
  let rest: string;
  if (basePath === '') rest = path;
  else if (path === basePath || path.startsWith(`${basePath}/`)) rest = path.slice(basePath.length);
  else return miss(`Nothing is served outside ${basePath}/`);
  if (rest === '' || rest === '/') return { kind: 'service', page: 'index' };
  const split = rest.slice(1).split('/');
  // Only a segment with a `%` decodes to something else: most paths need no second array.
  const segments = rest.includes('%') ? split.map(decodeSegment) : split;
  if (segments.length === 1 && SERVICE_PAGES[segments[0]] !== undefined) return { kind: 'service', page: SERVICE_PAGES[segments[0]] };

  let route: ResolvedRoute | undefined;
  let next = 0;
  for (let n = Math.min(segments.length, table.maxSegments); n >= 1 && !route; n--) {
    route = table.get(n === 1 ? segments[0] : segments.slice(0, n).join('/'));
    if (route) next = n;
  }
  if (!route) return miss(`No runnable at ${JSON.stringify(segments.join('/'))}; serving: ${table.paths.join(', ')}`);
  let addressedPath = `${basePath}/${route.path}`;

  let configHash: string | undefined;
  if (segments[next] === 'c') {
    if (!route.enabled.has('config_hashes')) return miss('Config hash routes are disabled for this runnable', route);
    configHash = segments[next + 1] ?? '';
    if (configHash.length > MAX_CONFIG_HASH_CHARS) {
      return { kind: 'miss', status: 414, detail: `config hash: ${configHash.length} characters, more than the ${MAX_CONFIG_HASH_CHARS} characters accepted`, route };
    }
    addressedPath += `/c/${configHash}`;
    next += 2;
  }
  const name = segments[next] ?? '';
  if (!isEndpoint(name) || name === 'config_hashes' || (name !== 'playground' && segments.length > next + 1)) {
    return miss(`Unknown endpoint ${JSON.stringify(segments.slice(next).join('/'))} for runnable "${route.path}"`, route);
  }
  if (!route.enabled.has(name)) return miss(`Endpoint "${name}" is disabled for runnable "${route.path}"`, route);
  return { kind: 'runnable', route, endpoint: name, configHash, addressedPath };
}

/**
 * BASE_PATH as given (`api`, `/api/`, `/api/v1`) → `/api` form; `''` or `/` → no prefix. Refuses
 * what would never match a request path, so a typo fails at start-up, not as 404s in production.
 */
export function normalizeBasePath(value: string): string {
  const trimmed = value.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) {
    throw new Error(`BASE_PATH "${value}": use URL path segments of letters, digits and . _ ~ - separated by "/"`);
  }
  return `/${trimmed}`;
}

export function isBasePath(value: string): boolean {
  try {
    normalizeBasePath(value);
    return true;
  } catch {
    return false;
  }
}

function miss(detail: string, route?: ResolvedRoute): RouteMatch {
  return route ? { kind: 'miss', status: 404, detail, route } : { kind: 'miss', status: 404, detail };
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
