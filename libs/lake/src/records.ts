/**
 * The light half of @runnel/lake: the envelope, object keys and JSONL lines, with no Arrow,
 * Parquet or S3 SDK behind it. change-reader needs only these; importing the full entry point
 * loaded parquet-wasm and the AWS SDK into a process that never writes or uploads.
 */
export * from './change-envelope';
export * from './object-key';
export { decodeJsonl, jsonlLine } from './formats/jsonl-format';
export { sha256 } from './object-digest';
