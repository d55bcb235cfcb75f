import type { RunnableConfig } from '@langchain/core/runnables';
import type { RequestContext } from '../http/request-context';
import { sendJson } from '../http/response-writer';
import { RequestValidationError } from '../protocol/http-error';
import { readJsonBody } from '../protocol/request-body';
import { BatchRequest, parseRequest } from '../protocol/request-schemas';
import { clientRunConfig, serverRunConfig } from '../protocol/run-config';
import { serializeOutput } from '../protocol/well-known-objects';
import { prepareRunInput } from './run-input';

/**
 * POST /{path}/batch → `{output: [...], metadata: {run_ids, responses}}`. `config` may be one object
 * for all inputs or an array with one per input (what the JS client sends).
 */
export async function batch(ctx: RequestContext): Promise<void> {
  const body = parseRequest(BatchRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const { inputs } = body;
  if (Array.isArray(body.config) && body.config.length !== inputs.length) {
    throw new RequestValidationError(
      `body.config: got ${body.config.length} configs for ${inputs.length} inputs; send one config object, or an array of the same length as inputs`,
    );
  }
  ctx.metrics.batchSize.labels(ctx.route.path).observe(inputs.length);
  const prepared = inputs.map((input, i) => prepareRunInput(ctx.route, input, `inputs.${i}`));
  // One config object is one client config: merged and passed through the per-request modifier
  // once, as LangServe does; an array gets one pass per entry.
  const clientConfigs: RunnableConfig[] = Array.isArray(body.config)
    ? await Promise.all(body.config.map((c) => clientRunConfig(ctx.route, ctx.hashConfig, c, ctx.req)))
    : inputs.length === 0
      ? []
      : [await clientRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req)];
  // A client run id (routes allowing `run_id`) names one run: with one config object, the first.
  const configs = inputs.map((_input, i) =>
    Array.isArray(body.config)
      ? serverRunConfig(ctx.route, clientConfigs[i], ctx.req, ctx.endpoint, ctx.signal)
      : serverRunConfig(ctx.route, clientConfigs[0], ctx.req, ctx.endpoint, ctx.signal, i === 0),
  );
  const runIds = configs.map((c) => c.runId);
  const outputs = inputs.length === 0 ? [] : await ctx.route.runnable.batch(prepared, configs);
  sendJson(ctx.res, 200, {
    output: serializeOutput(outputs),
    metadata: { run_ids: runIds, responses: runIds.map((run_id) => ({ run_id, feedback_tokens: [] })) },
  });
}
