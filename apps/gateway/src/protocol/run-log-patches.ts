import { concat } from '@langchain/core/utils/stream';

type Op = { op: string; path: string; value?: unknown; from?: string };

const LOG_ENTRY = /^\/logs\/[^/]+$/;
const NEEDS_VALUE = new Set(['add', 'replace', 'test']);

/**
 * Reshapes LangChain.js `streamLog` patches into the ones LangServe sends (Python LangChain's
 * `astream_log`):
 * - each root chunk's patch holds `add /streamed_output/-` AND `replace /final_output` with the
 *   output accumulated so far (chunks added as LangChain adds them), so the root `final_output`
 *   is the output itself; LangChain.js's own root `/final_output` op at the end (`{output: …}` for
 *   a non-object output, and no `value` at all when the run failed) is dropped;
 * - child entries added under `/logs/…` carry `final_output: null` and `end_time: null`;
 * - no op that needs a `value` goes without one (Python's jsonpatch raises InvalidJsonPatch).
 * One instance per stream.
 */
export class RunLogPatches {
  #final: unknown = undefined;
  #started = false;

  /** The ops to send for one LangChain.js patch; empty when nothing is left to send. */
  adapt(ops: readonly Op[]): Op[] {
    const out: Op[] = [];
    for (const op of ops) {
      if (op.path === '/final_output') continue;
      if (op.path === '' && op.op === 'replace') {
        out.push({ ...op, value: { ...(op.value as object), final_output: null } });
      } else if (op.op === 'add' && op.path === '/streamed_output/-') {
        this.#final = this.#started ? add(this.#final, op.value) : op.value;
        this.#started = true;
        out.push(op, { op: 'replace', path: '/final_output', value: this.#final });
      } else if (op.op === 'add' && LOG_ENTRY.test(op.path) && op.value !== null && typeof op.value === 'object') {
        const entry = op.value as Record<string, unknown>;
        out.push({ ...op, value: { ...entry, final_output: entry.final_output ?? null, end_time: entry.end_time ?? null } });
      } else if (NEEDS_VALUE.has(op.op) && op.value === undefined) {
        out.push({ ...op, value: null });
      } else {
        out.push(op);
      }
    }
    return out;
  }
}

/** Python's `final_output + chunk`, falling back to the chunk when the two do not add up. */
function add(total: unknown, chunk: unknown): unknown {
  if (total === null || total === undefined || chunk === null || chunk === undefined) return chunk;
  try {
    return concat(total as never, chunk as never);
  } catch {
    return chunk;
  }
}
