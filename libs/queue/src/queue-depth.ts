import type { Queue } from 'bullmq';
import type { PipelineMetrics } from '@runnel/metrics';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/** Samples queue depth per state (and the dead-letter queue's size) into the metrics; also feeds /ready's detail. */
export async function sampleQueueDepth(queues: Queue[], metrics: Pick<PipelineMetrics, 'queueDepth' | 'dlqSize'>, dlq?: Queue): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const q of queues) {
    const counts = await q.getJobCounts(...STATES);
    out[q.name] = counts;
    for (const s of STATES) metrics.queueDepth.labels(q.name, s).set(counts[s] ?? 0);
  }
  if (dlq) {
    const c = await dlq.getJobCounts('waiting', 'delayed', 'prioritized');
    const size = (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    metrics.dlqSize.set(size);
    out[dlq.name] = { waiting: size };
  }
  return out;
}
