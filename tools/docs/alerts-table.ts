import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const RULES_FILE = 'k8s/observability/prometheus-rules.yaml';
export const DASHBOARDS_DIR = 'k8s/observability/dashboards';

export interface AlertDoc {
  group: string;
  alert: string;
  severity: string;
  expr: string;
  for: string;
  runbook: string;
  summary: string;
}

interface RuleGroup {
  name?: string;
  rules?: { alert?: string; expr?: string | number; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}

/** Alerting rules from a PrometheusRule resource (spec.groups) or a plain rules file (groups). */
export function readAlerts(root: string): AlertDoc[] | undefined {
  const file = join(root, RULES_FILE);
  if (!existsSync(file)) return undefined;
  const out: AlertDoc[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const value = doc.toJS() as { spec?: { groups?: RuleGroup[] }; groups?: RuleGroup[] } | null;
    for (const group of value?.spec?.groups ?? value?.groups ?? []) {
      for (const rule of group.rules ?? []) {
        if (!rule.alert) continue;
        const a = rule.annotations ?? {};
        out.push({
          group: group.name ?? '',
          alert: rule.alert,
          severity: rule.labels?.severity ?? '',
          expr: String(rule.expr ?? '').replace(/\s+/g, ' ').trim(),
          for: rule.for ?? '',
          runbook: a.runbook_url ?? a.runbook ?? '',
          summary: (a.summary ?? a.description ?? '').replace(/\s+/g, ' ').trim(),
        });
      }
    }
  }
  return out;
}

/** A runbook URL pointing into docs/runbooks.md becomes a link relative to docs/. */
function runbookLink(url: string): string {
  if (!url) return '—';
  const m = /runbooks\.md(#[\w-]+)?$/.exec(url);
  if (m) return `[${m[1] ? m[1].slice(1) : 'runbooks'}](runbooks.md${m[1] ?? ''})`;
  return `<${url}>`;
}

function codeCell(s: string): string {
  // A code span cannot hold its own delimiter length; PromQL has no backticks, but stay safe.
  return `\`${s.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

export function renderAlerts(alerts: AlertDoc[] | undefined): string {
  if (alerts === undefined) return `_\`${RULES_FILE}\` is not in the repository yet: no alerts to list._`;
  if (alerts.length === 0) return `_\`${RULES_FILE}\` defines no alerting rules._`;
  const lines = [
    `From \`${RULES_FILE}\` (${alerts.length} alerts).`,
    '',
    '| alert | severity | for | expression | summary | runbook |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const a of alerts) {
    lines.push(`| \`${a.alert}\` | ${a.severity || '—'} | ${a.for || '—'} | ${codeCell(a.expr)} | ${a.summary.replace(/\|/g, '\\|') || '—'} | ${runbookLink(a.runbook)} |`);
  }
  return lines.join('\n');
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Each Grafana dashboard JSON under k8s/observability/dashboards: its panels and their queries. */
export function renderDashboards(root: string): string {
  const dir = join(root, DASHBOARDS_DIR);
  if (!existsSync(dir)) return `_\`${DASHBOARDS_DIR}/\` is not in the repository yet._`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) return `_\`${DASHBOARDS_DIR}/\` holds no dashboards._`;
  const out: string[] = [];
  for (const f of files) {
    const dash = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { title?: string; uid?: string; panels?: Panel[] };
    out.push(`#### ${dash.title ?? f} — \`${DASHBOARDS_DIR}/${f}\``, '', '| panel | type | queries |', '| --- | --- | --- |');
    const flat = (ps: Panel[] = []): Panel[] => ps.flatMap((p) => [p, ...flat(p.panels)]);
    for (const p of flat(dash.panels)) {
      if (p.type === 'row') {
        out.push(`| **${(p.title ?? '').replace(/\|/g, '\\|')}** | row | |`);
        continue;
      }
      const exprs = (p.targets ?? []).map((t) => t.expr).filter((e): e is string => !!e).map((e) => codeCell(e.replace(/\s+/g, ' ').trim()));
      out.push(`| ${(p.title ?? '(untitled)').replace(/\|/g, '\\|')} | ${p.type ?? ''} | ${exprs.join('<br>') || '—'} |`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
