/** LangChain's DEFAULT_RECURSION_LIMIT. */
const DEFAULT_RECURSION_LIMIT = 25;

/** One config layer in the wire (snake_case) spelling, keys already allow-listed and type-checked. */
export interface WireConfigLayer {
  tags?: string[];
  metadata?: Record<string, unknown>;
  configurable?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * LangChain's `merge_configs` (langchain_core.runnables.config), as LangServe applies it to the
 * `c/{hash}` config and the body's config: tags are unioned (as a sorted set, like Python's
 * `sorted(set(...))`), metadata and configurable are merged key by key (later layers win), a
 * `recursion_limit` of 25 (the default) does not replace an earlier one, any other key is replaced
 * by the later layer.
 */
export function mergeConfigs(...layers: (WireConfigLayer | undefined)[]): WireConfigLayer {
  const out: WireConfigLayer = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of Object.keys(layer)) {
      const value = layer[key];
      if (value === undefined) continue;
      switch (key) {
        case 'tags':
          out.tags = [...new Set([...(out.tags ?? []), ...(value as string[])])].sort();
          break;
        case 'metadata':
        case 'configurable':
          out[key] = { ...(out[key] ?? {}), ...(value as Record<string, unknown>) };
          break;
        case 'recursion_limit':
          // LangChain's default (25) in a later layer does not undo an earlier layer's value.
          if (value !== DEFAULT_RECURSION_LIMIT || out.recursion_limit === undefined) out.recursion_limit = value;
          break;
        default:
          out[key] = value;
      }
    }
  }
  return out;
}
