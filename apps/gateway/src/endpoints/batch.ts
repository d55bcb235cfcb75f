import { randomUUID } from 'node:crypto';
import type { RunnableConfig } from '@langchain/core/runnables';
import { sendJson, type RequestContext } from '../http/request-context';
import { RequestValidationError } from '../protocol/http-error';
import { readJsonBody } from '../protocol/request-body';
import { BatchRequest, parseRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { prepareInput } from '../protocol/run-input';
import { toWire } from '../protocol/wire-serialization';

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
  const prepared = inputs.map((input, i) => prepareInput(ctx.route, input, `inputs.${i}`));
  const runIds = inputs.map(() => randomUUID());
  const configs: RunnableConfig[] = await Promise.all(
    runIds.map((runId, i) => {
      const clientConfig = Array.isArray(body.config) ? body.config[i] : body.config;
      return buildRunConfig(ctx.route, ctx.hashConfig, clientConfig, ctx.req, ctx.endpoint, runId, ctx.signal);
    }),
  );
  const outputs = inputs.length === 0 ? [] : await ctx.route.runnable.batch(prepared, configs);
  sendJson(ctx.res, 200, {
    output: toWire(outputs),
    metadata: { run_ids: runIds, responses: runIds.map((run_id) => ({ run_id, feedback_tokens: [] })) },
  });
}
