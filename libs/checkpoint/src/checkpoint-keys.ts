/** Redis keys of one stream's resume state, all under the shared hash-tagged prefix. */
export function checkpointKeys(prefix: string, stream: string) {
  const base = `${prefix}:ckpt:${stream}`;
  return {
    /** HASH generation, token, seq, cluster_time, updated_at (+ hi_*: the highest stored batch end): the committed checkpoint. Expires after CHECKPOINT_TTL. */
    checkpoint: base,
    /** ZSET batch id → seqStart: every batch the checkpoint has not passed yet (the cut log). */
    pending: `${base}:pending`,
    /** HASH batch id → BatchRecord JSON. */
    meta: `${base}:meta`,
    /**
     * HASH generation, started_at, reason: the stream's current generation. No TTL: it outlives an
     * expired checkpoint, which is how an expiry is told from a stream never read.
     */
    stream: `${prefix}:stream:${stream}`,
  };
}

export function leaseKeys(prefix: string, stream: string) {
  return {
    holder: `${prefix}:lease:${stream}`,
    fence: `${prefix}:lease:${stream}:fence`,
    /** "<fence>:<writes>": how many checkpoint writes the holder's term has made (detects lost writes). */
    term: `${prefix}:lease:${stream}:term`,
  };
}
