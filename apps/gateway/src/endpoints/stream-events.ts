import type { StreamEvent } from '@langchain/core/tracers/log_stream';
import type { RequestContext } from '../http/request-context';
import { readJsonBody } from '../protocol/request-body';
import { parseRequest, StreamLogRequest } from '../protocol/request-schemas';
import { buildRunConfig } from '../protocol/run-config';
import { RunParents } from '../protocol/run-parents';
import { serializeOutput } from '../protocol/well-known-objects';
import { prepareRunInput } from './run-input';
import { sendSse } from './sse-response';
import { runFilters } from './stream-log';

/**
 * POST /{path}/stream_events: v2 events, with metadata keys starting `__` removed (server internals)
 * and `parent_ids` (ancestor run ids, root first) added, as LangServe sends them.
 */
export async function streamEvents(ctx: RequestContext): Promise<void> {
  const body = parseRequest(StreamLogRequest, await readJsonBody(ctx.req, ctx.bodyLimit));
  const input = prepareRunInput(ctx.route, body.input);
  const config = await buildRunConfig(ctx.route, ctx.hashConfig, body.config, ctx.req, ctx.endpoint, ctx.signal);
  const parents = new RunParents();
  const events = () => ctx.route.runnable.streamEvents(input, { ...config, callbacks: parents.addTo(config.callbacks), version: 'v2' }, runFilters(body));
  await sendSse(ctx, events, (chunk) => {
    const event = chunk as StreamEvent;
    const metadata: Record<string, unknown> = {};
    for (const k in event.metadata ?? {}) if (!k.startsWith('__')) metadata[k] = event.metadata[k];
    return JSON.stringify(
      serializeOutput({
        event: event.event,
        name: event.name,
        run_id: event.run_id,
        tags: event.tags ?? [],
        metadata,
        data: event.data,
        parent_ids: parents.ancestorsOf(event.run_id),
      }),
    );
  });
}
