import type { ServerResponse } from 'node:http';
import { headerList } from '../../http/response-writer';
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
   * A JSON answer that takes long (runs.wait, join): sent as 200 at once, with a newline every
   * second until the value is ready (JSON allows leading whitespace), as the reference does, so
   * proxies and load balancers do not cut an idle connection while a long run works.
   */
  | { kind: 'slow-json'; body: Promise<unknown>; headers?: Record<string, string> };

export const json = (body: unknown, status = 200, headers?: Record<string, string>): AgentReply => ({ kind: 'json', status, body, headers });

const KEEP_ALIVE_MS = 1_000;

/** Writes a reply. Resolves when the response is finished (or the client left). */
export async function writeReply(res: ServerResponse, reply: AgentReply, onError: (err: unknown) => SseEvent | undefined): Promise<void> {
  switch (reply.kind) {
    case 'json': {
      // Graph values hold LangChain messages: serializeData gives their dict form, as the reference sends them.
      const text = serializeData(reply.body);
      res.writeHead(reply.status ?? 200, headerList(res, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers }));
      res.end(text);
      return;
    }
    case 'empty':
      res.writeHead(reply.status, headerList(res, { 'content-length': 0 }));
      res.end();
      return;
    case 'slow-json': {
      res.writeHead(200, headerList(res, { 'content-type': 'application/json', ...reply.headers }));
      const timer = setInterval(() => res.write('\n'), KEEP_ALIVE_MS);
      try {
        const body = await reply.body;
        res.end(serializeData(body));
      } finally {
        clearInterval(timer);
      }
      return;
    }
    case 'sse': {
      res.writeHead(
        200,
        headerList(res, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', ...reply.headers }),
      );
      try {
        for await (const e of reply.events) {
          if (res.destroyed) break;
          res.write(formatSse(e));
        }
      } catch (err) {
        const e = onError(err);
        if (e && !res.destroyed) res.write(formatSse(e));
      }
      res.end();
      return;
    }
  }
}

/** `event:`/`data:`/`id:` lines; data is one line (JSON text has no raw newlines). */
export function formatSse(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${e.data}\n${e.id ? `id: ${e.id}\n` : ''}\n`;
}
