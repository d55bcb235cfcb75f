import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { InvokeRequest, parseRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { prepareInput } from '../protocol/run-input';
import { toWire } from '../protocol/wire-serialization';
import { sendSse } from './sse-response';

/** POST /{path}/stream: `metadata` once with the run id, `data` per chunk, then `end`. */
export async function stream(ctx: RequestContext): Promise<void> {
  const body = parseRequest(InvokeRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareInput(ctx.route, body.input);
  const runId = randomUUID();
  const config = await buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, runId, ctx.signal);
  async function* chunks() {
    for await (const chunk of await ctx.route.runnable.stream(input, config)) yield JSON.stringify(toWire(chunk));
  }
  await sendSse(ctx, chunks, JSON.stringify({ run_id: runId }));
}
