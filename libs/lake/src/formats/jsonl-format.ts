import { type ChangeEnvelope, ENVELOPE_FIELDS } from '../change-envelope';

/** One JSON object per line, fields always in envelope order, so equal batches give equal bytes. */
export function encodeJsonl(events: ChangeEnvelope[]): Buffer {
  let out = '';
  for (const e of events) {
    const ordered: Record<string, unknown> = {};
    for (const f of ENVELOPE_FIELDS) ordered[f] = e[f];
    out += `${JSON.stringify(ordered)}\n`;
  }
  return Buffer.from(out, 'utf8');
}

export function decodeJsonl(body: Buffer): ChangeEnvelope[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ChangeEnvelope);
}
