import type { RunLogPatch } from '@langchain/core/tracers/log_stream';
import type { RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { parseRequest, StreamLogRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { RunLogPatches } from '../protocol/run-log-patches';
import { serializeOutput } from '../protocol/well-known-objects';
import { sendSse } from './sse-response';
import { prepareRunInput } from './run-input';

/** The include/exclude filters, from the wire's snake_case to LangChain JS's camelCase. */
export function runFilters(body: StreamLogRequest) {
  return {
    includeNames: body.include_names ?? undefined,
    includeTypes: body.include_types ?? undefined,
    includeTags: body.include_tags ?? undefined,
    excludeNames: body.exclude_names ?? undefined,
    excludeTypes: body.exclude_types ?? undefined,
    excludeTags: body.exclude_tags ?? undefined,
  };
}

/**
 * POST /{path}/stream_log: `data` events of `{ops: [json-patch]}`, always as diffs (LangServe
 * ignores the client's `diff: false` too); the first op replaces "" with the whole run state.
 * The patches are LangServe's (see RunLogPatches), not LangChain.js's as they come.
 */
export async function streamLog(ctx: RequestContext): Promise<void> {
  const body = parseRequest(StreamLogRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareRunInput(ctx.route, body.input);
  const config = await buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, ctx.signal);
  const patches = new RunLogPatches();
  await sendSse(
    ctx,
    () => ctx.route.runnable.streamLog(input, config, runFilters(body)),
    (patch) => {
      const ops = patches.adapt((patch as RunLogPatch).ops);
      return ops.length ? JSON.stringify({ ops: serializeOutput(ops) }) : undefined;
    },
  );
}
