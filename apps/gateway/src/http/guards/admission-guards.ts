import type { GatewayMetrics } from '../../gateway-metrics';
import { HttpError } from '../../protocol/http-error';
import type { Admission } from '../admission';
import type { Guard } from '../guard';

/** 503 with `Connection: close` once shutdown has begun: the client should retry on another instance. */
export function drainGuard(admission: Admission, metrics: GatewayMetrics): Guard {
  return {
    name: 'draining',
    check() {
      if (!admission.draining) return;
      metrics.rejected.labels('draining').inc();
      throw new HttpError(503, 'Gateway is shutting down; retry on another instance', { 'retry-after': '1', connection: 'close' }, 'draining');
    },
  };
}

/** 503 straight away at MAX_CONCURRENT_REQUESTS rather than queueing: a queue would only add latency under overload. */
export function capacityGuard(admission: Admission, metrics: GatewayMetrics): Guard {
  return {
    name: 'capacity',
    check() {
      if (!admission.full) return;
      metrics.rejected.labels('overload').inc();
      throw new HttpError(503, `Gateway at its limit of ${admission.maxConcurrent} concurrent requests; retry shortly`, { 'retry-after': '1' }, 'overload');
    },
  };
}
