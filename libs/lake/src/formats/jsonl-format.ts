import { type ChangeEnvelope, ENVELOPE_FIELDS } from '../change-envelope';

/**
 * One event as its JSONL line, newline included, fields always in envelope order so equal events
 * give equal bytes. change-reader builds these once per event and batches carry them, so a JSONL
 * writer compresses them as they are.
 */
export function jsonlLine(e: ChangeEnvelope): string {
  const ordered: Record<string, unknown> = {};
  for (const f of ENVELOPE_FIELDS) ordered[f] = e[f];
  return `${JSON.stringify(ordered)}\n`;
}

/** One JSON object per line (see jsonlLine). */
export function encodeJsonl(events: ChangeEnvelope[]): Buffer {
  let out = '';
  for (const e of events) out += jsonlLine(e);
  return Buffer.from(out, 'utf8');
}

export function decodeJsonl(body: Buffer | string): ChangeEnvelope[] {
  return (typeof body === 'string' ? body : body.toString('utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ChangeEnvelope);
}
