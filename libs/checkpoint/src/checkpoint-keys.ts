/** Redis keys of one stream's resume state, all under the shared hash-tagged prefix. */
export function checkpointKeys(prefix: string, stream: string) {
  const base = `${prefix}:ckpt:${stream}`;
  return {
    /** HASH token, seq, cluster_time, updated_at (+ hi_*: the highest stored batch end): the committed checkpoint. */
    checkpoint: base,
    /** ZSET batch id → seqStart: every batch the checkpoint has not passed yet (the cut log). */
    pending: `${base}:pending`,
    /** HASH batch id → BatchRecord JSON. */
    meta: `${base}:meta`,
  };
}

export function leaseKeys(prefix: string, stream: string) {
  return { holder: `${prefix}:lease:${stream}`, fence: `${prefix}:lease:${stream}:fence` };
}
