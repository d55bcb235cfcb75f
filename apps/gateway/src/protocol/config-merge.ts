/**
 * LangChain's `merge_configs` (langchain_core.runnables.config), as LangServe applies it to the
 * `c/{hash}` config and the body's config: tags are unioned (as a sorted set, like Python's
 * `sorted(set(...))`), metadata and configurable are merged key by key (later layers win), any
 * other key is replaced by the later layer.
 */
export interface WireConfigLayer {
  tags?: string[];
  metadata?: Record<string, unknown>;
  configurable?: Record<string, unknown>;
  [key: string]: unknown;
}

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
        default:
          out[key] = value;
      }
    }
  }
  return out;
}
