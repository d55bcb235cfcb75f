import type { RequestContext } from '../http/request-context';
import { NOT_PREFETCHED, prefetchedJsonBody, readJsonBody } from '../protocol/request-body';
import { parseInvokeRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { serializeOutput } from '../protocol/well-known-objects';
import { runIdMetadata } from '../protocol/langserve-json';
import { sendSse } from './sse-response';
import { prepareRunInput } from './run-input';

/** POST /{path}/stream: `metadata` once with the run id, `data` per chunk, then `end`. */
export async function stream(ctx: RequestContext): Promise<void> {
  // Read by the body guard already (the promise only when it did not run: an embedding without it).
  const prefetched = prefetchedJsonBody(ctx.req);
  const body = parseInvokeRequest(prefetched === NOT_PREFETCHED ? await readJsonBody(ctx.req, ctx.bodyLimit) : prefetched);
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
