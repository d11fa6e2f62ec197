// Node's process metrics (prom-client's defaults) as the gateway exports them: prefix nlp_, less the
// three gauges prom-client names nodejs_active_{handles,requests,resources}_total. Only counters may
// end in _total (promtool check metrics rejects them), and each of the three is just the sum over
// `type` of the gauge beside it (nlp_nodejs_active_handles{type=...}), so nothing is lost.
import { collectDefaultMetrics, type Registry } from 'prom-client';

export const METRIC_PREFIX = 'nlp_';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
}
