/**
 * JSON as Python's `json.dumps` writes it with its default arguments, which is how LangServe
 * writes the `metadata` and `error` SSE events (`{"run_id": "…"}`; data events go through orjson
 * and are compact, like JSON.stringify): `", "` and `": "` separators, non-ASCII escaped as
 * `\uXXXX` (ensure_ascii). Meant for the small, flat objects of those events.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${asciiString(k)}: ${pythonJsonDumps(v)}`);
    }
    return `{${parts.join(', ')}}`;
  }
  if (typeof value === 'string') return asciiString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : value !== value ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return JSON.stringify(value) ?? 'null';
}

const NON_ASCII = /[\u007f-\uffff]/;
const NON_ASCII_ALL = /[\u007f-\uffff]/g;

function asciiString(s: string): string {
  const json = JSON.stringify(s);
  // Run ids and keys are ASCII: a test is cheaper than a replace that finds nothing.
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/**
 * `pythonJsonDumps({ run_id: runId })`, the data of a stream's `metadata` event, without the generic
 * walk (it showed as about 5 µs per stream under load: docs/benchmarks.md).
 */
export function runIdMetadata(runId: string): string {
  return `{"run_id": ${asciiString(runId)}}`;
}
