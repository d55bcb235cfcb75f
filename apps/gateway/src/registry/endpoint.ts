/** The endpoint names LangServe uses in `enabled_endpoints` / `disabled_endpoints`. */
export const ENDPOINTS = [
  'invoke',
  'batch',
  'stream',
  'stream_log',
  'stream_events',
  'input_schema',
  'output_schema',
  'config_schema',
  'playground',
  'config_hashes',
] as const;

export type Endpoint = (typeof ENDPOINTS)[number];

export function isEndpoint(name: string): name is Endpoint {
  return (ENDPOINTS as readonly string[]).includes(name);
}
