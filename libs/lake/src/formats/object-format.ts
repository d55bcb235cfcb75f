/** FORMAT and COMPRESSION values. */
export const FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type ObjectFormat = (typeof FORMATS)[number];
export const COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface EncodedObject {
  body: Buffer;
  /** File extension for the key: `jsonl`, `jsonl.gz`, `csv.zst`, `parquet` … */
  extension: string;
  contentType: string;
  /** Set for outer compression (jsonl/csv); Parquet compresses its pages inside the file. */
  contentEncoding?: 'gzip' | 'zstd';
}

export function extensionFor(format: ObjectFormat, compression: Compression): string {
  if (format === 'parquet' || compression === 'none') return format;
  return `${format}.${compression === 'gzip' ? 'gz' : 'zst'}`;
}

/** The format and compression an object was written with, from its key's extension. */
export function parseExtension(extension: string): { format: ObjectFormat; compression: Compression } | undefined {
  const [format, outer] = extension.split('.') as [string, string | undefined];
  if (!(FORMATS as readonly string[]).includes(format)) return undefined;
  if (outer === undefined) return { format: format as ObjectFormat, compression: 'none' };
  if (outer === 'gz') return { format: format as ObjectFormat, compression: 'gzip' };
  if (outer === 'zst') return { format: format as ObjectFormat, compression: 'zstd' };
  return undefined;
}
