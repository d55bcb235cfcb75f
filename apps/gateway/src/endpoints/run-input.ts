import { prepareInput } from '../protocol/run-input';
import { wellKnownFromWire } from '../protocol/well-known-objects';
import type { ResolvedRoute } from '../registry/resolved-route';

/** A wire input checked against the route's schema and revived: messages, then LangServe's other well-known objects. */
export function prepareRunInput(route: ResolvedRoute, input: unknown, where?: string): unknown {
  return wellKnownFromWire(prepareInput(route, input, where));
}
