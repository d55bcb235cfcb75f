import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { parseRequest, StreamLogRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { prepareInput } from '../protocol/run-input';
import { toWire } from '../protocol/wire-serialization';
import { sendSse } from './sse-response';
import { runFilters } from './stream-log';

/** POST /{path}/stream_events: v2 events, with metadata keys starting `__` removed (server internals). */
export async function streamEvents(ctx: RequestContext): Promise<void> {
  const body = parseRequest(StreamLogRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareInput(ctx.route, body.input);
  const runId = randomUUID();
  const config = await buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, runId, ctx.signal);
  async function* chunks() {
    for await (const event of ctx.route.runnable.streamEvents(input, { ...config, version: 'v2' }, runFilters(body))) {
      const metadata: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(event.metadata ?? {})) if (!k.startsWith('__')) metadata[k] = v;
      yield JSON.stringify(
        toWire({
          event: event.event,
          name: event.name,
          run_id: event.run_id,
          tags: event.tags ?? [],
          metadata,
          data: event.data,
          parent_ids: (event as { parent_ids?: string[] }).parent_ids ?? [],
        }),
      );
    }
  }
  await sendSse(ctx, chunks);
}
