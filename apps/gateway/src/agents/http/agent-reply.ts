import type { ServerResponse } from 'node:http';
import { headerList, sendJsonText, setExtraHeaders } from '../../http/response-writer';
import type { Pinger } from '../../http/sse-pinger';
import { SseStream } from '../../http/sse-stream';
import { serializeData } from '../execution/serialize-event';

/** One SSE event as the agent API sends it; `data` is JSON text already. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * What an agent route answers, decided by the route, written by the API: routes stay free of
 * response mechanics (and testable without a socket).
 */
export type AgentReply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'empty'; status: 202 | 204 }
  /** A server-sent event stream (runs.stream, joinStream). */
  | { kind: 'sse'; events: AsyncIterable<SseEvent>; headers?: Record<string, string> }
  /**
   * A JSON answer that takes long (runs.wait, join): sent as 200 at once, with newlines until the
   * value is ready (JSON allows leading whitespace), as the reference does, so proxies and load
   * balancers do not cut an idle connection while a long run works.
   */
  | { kind: 'slow-json'; body: Promise<unknown>; headers?: Record<string, string> };

/** A search's `select`: only the fields asked for (all of them when none are). */
export const selectFields = (row: Record<string, unknown>, select: readonly string[] | null | undefined): Record<string, unknown> =>
  select?.length ? Object.fromEntries(Object.entries(row).filter(([k]) => select.includes(k))) : row;

export const json = (body: unknown, status = 200, headers?: Record<string, string>): AgentReply => ({ kind: 'json', status, body, headers });

/**
 * Writes a reply. Resolves when the response is finished (or the client left). Streams and slow
 * answers are kept alive by the shared `pinger` (STREAM_PING_INTERVAL): SSE `: ping` comments,
 * newlines before a slow JSON body (JSON allows leading whitespace).
 */
export async function writeReply(res: ServerResponse, reply: AgentReply, pinger: Pinger, onError: (err: unknown) => SseEvent | undefined): Promise<void> {
  switch (reply.kind) {
    case 'json':
      // Graph values hold LangChain messages: serializeData gives their dict form, as the reference sends them.
      return sendJsonText(res, reply.status ?? 200, serializeData(reply.body), reply.headers);
    case 'empty':
      res.writeHead(reply.status, headerList(res, { 'content-length': 0 }));
      res.end();
      return;
    case 'slow-json': {
      res.writeHead(200, headerList(res, { 'content-type': 'application/json', ...reply.headers }));
      const keepAlive = { ping: () => void res.write('\n') };
      const pinged = pinger.add(keepAlive);
      try {
        res.end(serializeData(await reply.body));
      } finally {
        pinger.delete(pinged);
      }
      return;
    }
    case 'sse': {
      if (reply.headers) setExtraHeaders(res, reply.headers);
      // The runnable routes' SSE writer: backpressure (a slow client slows the read of the log) and pings.
      const stream = new SseStream(res);
      stream.start(false);
      const pinged = pinger.add(stream);
      try {
        for await (const e of reply.events) {
          if (!stream.open) break;
          const backlog = stream.send(e.event, e.data, e.id);
          if (backlog) await backlog;
        }
      } catch (err) {
        const e = onError(err);
        if (e) await stream.send(e.event, e.data);
      } finally {
        pinger.delete(pinged);
        stream.end();
      }
      return;
    }
  }
}
