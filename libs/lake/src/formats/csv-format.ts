import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { type ChangeEnvelope, ENVELOPE_FIELDS, NUMERIC_ENVELOPE_FIELDS } from '../change-envelope';

/**
 * RFC 4180 CSV with a header row of the envelope fields. Nulls are empty *unquoted* fields and
 * empty strings are quoted (`""`), so the two stay distinct when read back. Numbers are decimal
 * text. (DuckDB keeps the two apart with `quote='"', escape='"', allow_quoted_nulls=false`: its
 * default reads `""` as NULL too.)
 */
export function encodeCsv(events: ChangeEnvelope[]): Buffer {
  const rows = events.map((e) => ENVELOPE_FIELDS.map((f) => e[f]));
  return Buffer.from(
    stringify(rows, {
      header: true,
      columns: ENVELOPE_FIELDS as string[],
      record_delimiter: 'unix',
      quoted_match: /^$/,
      cast: { number: (n) => String(n) },
    }),
    'utf8',
  );
}

const NUMERIC: ReadonlySet<string> = new Set(NUMERIC_ENVELOPE_FIELDS);

export function decodeCsv(body: Buffer): ChangeEnvelope[] {
  const rows = parse(body, { columns: true, skip_empty_lines: true, cast: (value, ctx) => {
    if (value === '' && !ctx.quoting) return null;
    return NUMERIC.has(String(ctx.column)) ? Number(value) : value;
  } }) as Record<string, unknown>[];
  return rows as unknown as ChangeEnvelope[];
}
