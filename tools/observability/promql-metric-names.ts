/**
 * What a PromQL expression reads: the metric names it selects and the label names it filters or
 * groups on, found with Prometheus' own grammar (@prometheus-io/lezer-promql). Dashboards and
 * alert rules are checked with it against what the services really export: a renamed metric or a
 * misspelled label does not fail a query, it only yields an empty panel or an alert that never fires.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface PromQLReferences {
  /** Metric names selected (`foo`, `foo{…}`, `{__name__="foo"}`, `{"foo"}`), sorted, unique. */
  metricNames: string[];
  /** Label names in selectors' matchers (`{job="x"}`), except `__name__`; sorted, unique. */
  matcherLabels: string[];
  /** Label names in `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left/right (…)`; sorted, unique. */
  groupingLabels: string[];
  /** `__name__` matched by something other than `=`: names that cannot be checked statically. */
  unresolvedNameMatchers: string[];
  /** Syntax errors as `at <offset>: <text around it>`; [] when the expression parses. */
  errors: string[];
}

/**
 * Grafana's built-in interval variables, replaced by a valid duration so the expression parses as
 * Prometheus will receive it. Other template variables ($service, ${collection}) are left alone:
 * inside a label matcher's string they parse as they are; anywhere else they are a syntax error.
 */
export function expandGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$\{__(rate_interval|interval|range)_ms\}|\$__(rate_interval|interval|range)_ms\b/g, '300000')
    .replace(/\$\{__(rate_interval|interval|range)_s\}|\$__(rate_interval|interval|range)_s\b/g, '300')
    .replace(/\$\{__(rate_interval|interval|range)\}|\$__(rate_interval|interval|range)\b/g, '5m');
}

/** A string literal's value ("…", '…' or `…`; escapes as PromQL reads them, close enough for names). */
function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith('`') ? body : body.replace(/\\(.)/g, '$1');
}

/** The metric names, label names and syntax errors of one PromQL expression (Grafana variables expanded first). */
export function promqlReferences(rawExpr: string): PromQLReferences {
  const expr = expandGrafanaVariables(rawExpr);
  if (expr.trim() === '') return { metricNames: [], matcherLabels: [], groupingLabels: [], unresolvedNameMatchers: [], errors: ['empty expression'] };
  const tree = parser.parse(expr);
  const metricNames = new Set<string>();
  const matcherLabels = new Set<string>();
  const groupingLabels = new Set<string>();
  const unresolved = new Set<string>();
  const errors: string[] = [];
  // Structural: @lezer/common's ESM and CJS typings are distinct types to TypeScript.
  const text = (n: { from: number; to: number } | null | undefined) => (n ? expr.slice(n.from, n.to) : '');

  tree.iterate({
    enter: (ref) => {
      const node = ref.node;
      if (ref.type.isError) {
        errors.push(`at ${ref.from}: ${JSON.stringify(expr.slice(Math.max(0, ref.from - 20), ref.to + 20))}`);
        return;
      }
      switch (ref.name) {
        case 'VectorSelector': {
          const id = node.getChild('Identifier');
          if (id) metricNames.add(text(id));
          break;
        }
        case 'LabelMatchers': {
          // Prometheus 3: a bare quoted string in the braces is the metric name ({"my.metric"}).
          for (const q of node.getChildren('QuotedLabelName')) metricNames.add(unquote(text(q.getChild('StringLiteral'))));
          break;
        }
        case 'UnquotedLabelMatcher':
        case 'QuotedLabelMatcher': {
          const nameNode = node.getChild('LabelName') ?? node.getChild('QuotedLabelName')?.getChild('StringLiteral') ?? null;
          const name = nameNode?.name === 'StringLiteral' ? unquote(text(nameNode)) : text(nameNode);
          const op = node.getChild('MatchOp');
          const value = node.getChild('StringLiteral', 'MatchOp');
          if (name === '__name__') {
            if (op?.getChild('EqlSingle') && value) metricNames.add(unquote(text(value)));
            else unresolved.add(text(node));
          } else if (name) {
            matcherLabels.add(name);
          }
          break;
        }
        case 'GroupingLabels': {
          for (const l of node.getChildren('LabelName')) groupingLabels.add(text(l));
          for (const q of node.getChildren('QuotedLabelName')) groupingLabels.add(unquote(text(q.getChild('StringLiteral'))));
          break;
        }
      }
    },
  });
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    metricNames: sorted(metricNames),
    matcherLabels: sorted(matcherLabels),
    groupingLabels: sorted(groupingLabels),
    unresolvedNameMatchers: sorted(unresolved),
    errors,
  };
}

/** The metric names an expression selects; throws on a syntax error. */
export function promqlMetricNames(expr: string): string[] {
  const refs = promqlReferences(expr);
  if (refs.errors.length > 0) throw new Error(`PromQL does not parse: ${refs.errors.join('; ')} in ${expr}`);
  return refs.metricNames;
}

/**
 * The series names a Prometheus text exposition offers for queries: every sample's name, plus the
 * names a family declares with `# TYPE` even before it has samples (a histogram `x` offers
 * x_bucket, x_sum and x_count; a summary x, x_sum and x_count; a counter its name as written).
 */
export function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      else if (kind === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
      else names.add(name);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}

/** Label names that appear on any sample of a Prometheus text exposition. */
export function exportedLabelNames(exposition: string): Set<string> {
  const labels = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const braces = /^[a-zA-Z_:][a-zA-Z0-9_:]*\{(.*)\}\s/.exec(line);
    if (!braces) continue;
    for (const m of braces[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(m[1]);
  }
  return labels;
}
