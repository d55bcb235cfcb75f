import type { RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { parseInvokeRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { serializeOutput } from '../protocol/well-known-objects';
import { runIdMetadata } from '../protocol/langserve-json';
import { sendSse } from './sse-response';
import { prepareRunInput } from './run-input';

/** POST /{path}/stream: `metadata` once with the run id, `data` per chunk, then `end`. */
export async function stream(ctx: RequestContext): Promise<void> {
  const body = parseInvokeRequest(await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareRunInput(ctx.route, body.input);
  const pending = buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, ctx.signal);
  const config = pending instanceof Promise ? await pending : pending;
  await sendSse(
    ctx,
    () => ctx.route.runnable.stream(input, config),
    (chunk) => JSON.stringify(serializeOutput(chunk)),
    runIdMetadata(config.runId),
  );
}
