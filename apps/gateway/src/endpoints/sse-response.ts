import { errorResponse, sseErrorMessage } from '../http/error-response';
import type { RequestContext } from '../http/request-context';
import { pythonJsonDumps } from '../protocol/langserve-json';
import { SseStream } from '../http/sse-stream';

/**
 * Runs an already-validated request to the client as SSE. Validation happens before this, so
 * bad requests still get a plain JSON 4xx; once the 200 is sent, a failure becomes
 * `event: error` with a generic message and no `end` (the real error goes to the log only).
 */
export async function sendSse(
  ctx: RequestContext,
  start: () => AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>,
  /** The chunk's `data` line (no generator in between: one fewer promise per chunk). */
  serialize: (chunk: unknown) => string | undefined,
  metadata?: string,
): Promise<void> {
  const sse = new SseStream(ctx.res);
  // With a metadata frame to follow at once, the headers go out with it in one write.
  sse.start(metadata === undefined);
  // Also what runnel_gateway_open_streams counts.
  const pinged = ctx.pinger.add(sse);
  let sent = 0;
  try {
    if (metadata !== undefined) {
      const written = sse.send('metadata', metadata);
      if (written) await written;
    }
    // Started after the headers: LangChain's stream() waits for the first chunk, and the client
    // should see the stream open (and pings) while a slow model thinks.
    for await (const chunk of await start()) {
      if (!sse.open) break;
      const data = serialize(chunk);
      if (data === undefined) continue;
      // send() returns a promise only when the socket is full: awaiting nothing costs a microtask turn.
      const written = sse.send('data', data);
      if (written) await written;
      sent++;
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    // The `end` frame and the end of the response in one call (nothing is written after it).
    sse.end('end');
  } catch (err) {
    // The same map as JSON answers: once the 200 is out, the status travels as the event's status_code.
    const answer = errorResponse(err, ctx.signal);
    if (sse.open && answer.status !== 499) {
      ctx.metrics.errors.labels(answer.errorType, ctx.endpoint).inc();
      if (answer.unexpected) ctx.logger.error({ err, requestId: ctx.requestId, runnable: ctx.route.path, endpoint: ctx.endpoint, caller: ctx.identity?.name }, 'stream failed');
      await sse.send('error', pythonJsonDumps({ status_code: answer.status, message: sseErrorMessage(answer) }));
    }
  } finally {
    ctx.pinger.delete(pinged);
    ctx.metrics.observeStreamChunks(ctx.route.path, ctx.endpoint, sent);
    sse.end();
  }
}
