import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EnvShape } from '@runnel/config';
import { PipelineConfigSchema } from '@runnel/pipeline';
// The tables are generated from the services' own schemas; nothing ships from tools/.
import { BatchWriterConfigSchema } from '@runnel/batch-writer/tooling';
import { ChangeReaderConfigSchema } from '@runnel/change-reader/tooling';
import { GatewayConfigSchema } from '@runnel/gateway/tooling';
import { S3UploaderConfigSchema } from '@runnel/s3-uploader/tooling';
import { readAlerts, renderAlerts, renderDashboards } from './alerts-table';
import { describeSchema, type EnvVarDoc, renderConfigTable } from './config-table';
import { extractKeyDocs } from './jsdoc-extractor';
import { collectMetrics, renderMetrics } from './metrics-list';

interface SchemaSource {
  title: string;
  schema: EnvShape;
  file: string;
  exportName: string;
  /** Keys taken as they are from PipelineConfigSchema are listed once, in the shared table. */
  skipShared: boolean;
}

const SHARED_FILE = 'libs/pipeline/src/pipeline-config.ts';

const SOURCES: SchemaSource[] = [
  { title: 'gateway', schema: GatewayConfigSchema, file: 'apps/gateway/src/config.ts', exportName: 'GatewayConfigSchema', skipShared: false },
  { title: 'Shared by the pipeline services (change-reader, batch-writer, s3-uploader)', schema: PipelineConfigSchema, file: SHARED_FILE, exportName: 'PipelineConfigSchema', skipShared: false },
  { title: 'change-reader', schema: ChangeReaderConfigSchema, file: 'apps/change-reader/src/config.ts', exportName: 'ChangeReaderConfigSchema', skipShared: true },
  { title: 'batch-writer', schema: BatchWriterConfigSchema, file: 'apps/batch-writer/src/config.ts', exportName: 'BatchWriterConfigSchema', skipShared: true },
  { title: 's3-uploader', schema: S3UploaderConfigSchema, file: 'apps/s3-uploader/src/config.ts', exportName: 'S3UploaderConfigSchema', skipShared: true },
];

export interface ConfigSection {
  title: string;
  file: string;
  rows: EnvVarDoc[];
}

export function configSections(root: string): ConfigSection[] {
  const shared = extractKeyDocs(join(root, SHARED_FILE), 'PipelineConfigSchema');
  return SOURCES.map((s) => {
    const own = extractKeyDocs(join(root, s.file), s.exportName);
    const schema: EnvShape = s.skipShared
      ? Object.fromEntries(Object.entries(s.schema).filter(([k, v]) => (PipelineConfigSchema as EnvShape)[k] !== v))
      : s.schema;
    return { title: s.title, file: s.file, rows: describeSchema(schema, (name) => own.get(name) || shared.get(name) || '') };
  });
}

/** Variables whose schema entry has no JSDoc comment (their description cell is empty). */
export function undocumentedVariables(root: string): string[] {
  return configSections(root).flatMap((s) => s.rows.filter((r) => !r.description).map((r) => `${s.title === SOURCES[1].title ? 'pipeline' : s.title}.${r.name}`));
}

function renderConfig(root: string): string {
  const out: string[] = [];
  for (const s of configSections(root)) out.push(`### ${s.title}`, '', `Schema: \`${s.file}\`${s.title === 'gateway' || s.file === SHARED_FILE ? '' : ` (plus the shared table above)`}.`, '', renderConfigTable(s.rows), '');
  return out.join('\n').trimEnd();
}

export const REGION = (name: string, edge: 'start' | 'end') => `<!-- generated:${name}:${edge} -->`;

/** Replaces the body of every `<!-- generated:NAME:start -->…<!-- generated:NAME:end -->` region. */
export function replaceRegions(text: string, regions: Record<string, string>, file: string): string {
  const found = new Set([...text.matchAll(/<!-- generated:([\w-]+):start -->/g)].map((m) => m[1]));
  for (const name of found) if (!(name in regions)) throw new Error(`${file}: unknown generated region "${name}"`);
  let out = text;
  for (const [name, body] of Object.entries(regions)) {
    const start = out.indexOf(REGION(name, 'start'));
    const end = out.indexOf(REGION(name, 'end'));
    if (start < 0 || end < start) throw new Error(`${file}: missing ${REGION(name, 'start')} … ${REGION(name, 'end')}`);
    out = `${out.slice(0, start + REGION(name, 'start').length)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}

export const GENERATED_DOCS: Record<string, (root: string) => Record<string, string>> = {
  'docs/deployment.md': (root) => ({ config: renderConfig(root) }),
  'docs/observability.md': (root) => ({
    metrics: renderMetrics(collectMetrics(root)),
    alerts: renderAlerts(readAlerts(root)),
    dashboards: renderDashboards(root),
  }),
};

/** What each generated doc should contain: its current text with the regions regenerated. */
export function renderDocs(root: string, read = (file: string) => readFileSync(join(root, file), 'utf8')): { file: string; current: string; expected: string }[] {
  return Object.entries(GENERATED_DOCS).map(([file, regions]) => {
    const path = join(root, file);
    const current = read(file);
    return { file: relative(root, path), current, expected: replaceRegions(current, regions(root), file) };
  });
}
