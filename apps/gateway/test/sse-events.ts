/** One server-sent event as a client sees it: its `event:` name and its joined `data:` lines. */
export interface SseEvent {
  event: string;
  data?: string;
}

/** Splits an SSE body into events (comments such as `: ping` skipped), as an EventSource would. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const frame of text.split(/\r?\n\r?\n/)) {
    let event = 'message';
    let data: string | undefined;
    let seen = false;
    for (const line of frame.split(/\r?\n/)) {
      if (line.startsWith(':') || line === '') continue;
      seen = true;
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data = (data === undefined ? '' : `${data}\n`) + line.slice(5).replace(/^ /, '');
    }
    if (seen) events.push({ event, data });
  }
  return events;
}
