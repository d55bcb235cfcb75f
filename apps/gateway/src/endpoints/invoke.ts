import { randomUUID } from 'node:crypto';
import { sendJson, type RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { InvokeRequest, parseRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { prepareInput } from '../protocol/run-input';
import { toWire } from '../protocol/wire-serialization';

/** POST /{path}/invoke → `{output, metadata: {run_id, feedback_tokens: []}}`. */
export async function invoke(ctx: RequestContext): Promise<void> {
  const body = parseRequest(InvokeRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareInput(ctx.route, body.input);
  const runId = randomUUID();
  const config = await buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, runId, ctx.signal);
  const output = await ctx.route.runnable.invoke(input, config);
  sendJson(ctx.res, 200, { output: toWire(output), metadata: { run_id: runId, feedback_tokens: [] } });
}
