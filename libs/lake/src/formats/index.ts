/**
 * The formats of @runnel/lake, also an entry point of their own (@runnel/lake/formats): the
 * FORMAT / COMPRESSION values and the object encoders and decoders (JSONL, CSV, Parquet), without
 * the S3 listing, verifier and lake-state modules (and their bson) the index brings along.
 * batch-writer imports this, @runnel/lake/records and @runnel/lake/object-store, so its image has
 * only the packages encoding needs (docs/deployment.md, image sizes).
 */
export * from './object-format';
export * from './object-codec';
