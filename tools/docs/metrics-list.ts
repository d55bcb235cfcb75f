import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createMetricsRegistry, pipelineMetrics, type Registry } from '@runnel/metrics';
import * as ts from 'typescript';
// The docs are generated from the services' own metric factories; nothing ships from tools/.
import { GatewayMetrics, IdentityMetrics, LimitMetrics, AgentMetrics } from '@runnel/gateway/tooling';

export const PIPELINE_SERVICES = ['change-reader', 'batch-writer', 's3-uploader'] as const;
export const SERVICES = ['gateway', ...PIPELINE_SERVICES] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface MetricDoc {
  name: string;
  type: string;
  labels: string[];
  help: string;
  /** Services whose /metrics carries it. */
  exportedBy: ServiceName[];
  /** Services whose code moves it (pipeline metrics are registered everywhere, used where they concern). */
  updatedBy: ServiceName[];
}

/** Each service's registry, built as the service builds it (gateway-app.ts, PipelineRuntime.create). */
export function serviceRegistries(): { service: ServiceName; registry: Registry; props: Map<string, string> }[] {
  return SERVICES.map((service) => {
    const registry = createMetricsRegistry(service);
    const props = new Map<string, string>();
    if (service === 'gateway') {
      new GatewayMetrics(registry);
      // Registered when auth is on (gateway-app.ts): callers, their failures and their limits.
      new IdentityMetrics(registry);
      new LimitMetrics(registry);
      // Registered with the LangGraph Platform API (POSTGRES_URI set: agents/agent-platform.ts).
      new AgentMetrics(registry, { running: () => 0, queueDepth: async () => 0 });
    } else {
      for (const [prop, metric] of Object.entries(pipelineMetrics(registry))) props.set((metric as unknown as { name: string }).name, prop);
    }
    return { service, registry, props };
  });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

/**
 * Which PipelineMetrics members a service's code touches: `metrics.<member>` anywhere under
 * apps/<service>/src, plus sampleQueueDepth(queues, metrics[, dlq]) from libs/queue, which sets
 * queueDepth and, given the dead-letter queue, dlqSize.
 */
export function pipelineMetricsUsedBy(root: string, service: string): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles(join(root, 'apps', service, 'src'))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && /(^|\.)metrics$/.test(node.expression.getText(sf))) used.add(node.name.text);
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'sampleQueueDepth') {
        used.add('queueDepth');
        if (node.arguments.length >= 3) used.add('dlqSize');
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return used;
}

const DEFAULT_METRIC = /^(process|nodejs)_/;

export function collectMetrics(root: string): MetricDoc[] {
  const byName = new Map<string, MetricDoc>();
  for (const { service, registry, props } of serviceRegistries()) {
    const used = service === 'gateway' ? undefined : pipelineMetricsUsedBy(root, service);
    for (const m of registry.getMetricsAsArray() as unknown as { name: string; help: string; type: string; labelNames: string[] }[]) {
      if (DEFAULT_METRIC.test(m.name)) continue;
      let doc = byName.get(m.name);
      if (!doc) byName.set(m.name, (doc = { name: m.name, type: m.type, labels: [...m.labelNames], help: m.help, exportedBy: [], updatedBy: [] }));
      doc.exportedBy.push(service);
      const prop = props.get(m.name);
      if (!used || (prop !== undefined && used.has(prop))) doc.updatedBy.push(service);
    }
  }
  return [...byName.values()];
}

export function renderMetrics(metrics: MetricDoc[]): string {
  const code = (s: string) => `\`${s}\``;
  const lines = [
    '| metric | type | labels | help | exported by | moved by |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const m of metrics) {
    const exported = m.exportedBy.length === PIPELINE_SERVICES.length && PIPELINE_SERVICES.every((s) => m.exportedBy.includes(s)) ? 'all pipeline services' : m.exportedBy.join(', ');
    lines.push(
      `| ${code(m.name)} | ${m.type} | ${m.labels.length ? m.labels.map(code).join(', ') : '—'} | ${m.help.replace(/\|/g, '\\|')} | ${exported} | ${m.updatedBy.length ? m.updatedBy.join(', ') : '(none yet)'} |`,
    );
  }
  lines.push(
    '',
    'Every series also carries `service="<service name>"` (the registry\'s default label). Each service also exports prom-client\'s default metrics: `process_*` (CPU seconds, resident and virtual memory, open file descriptors, start time) and `nodejs_*` (event-loop lag percentiles, heap and heap-space sizes, external memory, active handles and requests, GC duration by kind, `nodejs_version_info`).',
  );
  return lines.join('\n');
}
