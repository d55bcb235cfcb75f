import type { RequestContext } from '../http/request-context';
import { sendJson } from '../http/response-writer';
import { NOT_PREFETCHED, prefetchedJsonBody, readJsonBody } from '../protocol/request-body';
import { parseInvokeRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { serializeOutput } from '../protocol/well-known-objects';
import { prepareRunInput } from './run-input';

/** POST /{path}/invoke → `{output, metadata: {run_id, feedback_tokens: []}}`. */
export async function invoke(ctx: RequestContext): Promise<void> {
  // Read by the body guard already (the promise only when it did not run: an embedding without it).
  const prefetched = prefetchedJsonBody(ctx.req);
  const body = parseInvokeRequest(prefetched === NOT_PREFETCHED ? await readJsonBody(ctx.req, ctx.bodyLimit) : prefetched);
  const input = prepareRunInput(ctx.route, body.input);
  const pending = buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, ctx.signal);
  const config = pending instanceof Promise ? await pending : pending;
  const output = await ctx.route.runnable.invoke(input, config);
  sendJson(ctx.res, 200, { output: serializeOutput(output), metadata: { run_id: config.runId, feedback_tokens: [] } });
}
