import { hostname } from 'node:os';
import { type EnvShape, Secret } from '@runnel/config';
import type { z } from 'zod';

export interface EnvVarDoc {
  name: string;
  /** What values the variable accepts, in words. */
  type: string;
  /** The raw default as a user would write it, or undefined when there is none. */
  default: string | undefined;
  required: boolean;
  secret: boolean;
  description: string;
}

/** What a walk over a builder's zod definition finds (libs/config/src/env-schema.ts). */
interface Shape {
  prefault?: string;
  enumValues?: string[];
  urlProtocols?: string[];
  integer: boolean;
  numberSeen: boolean;
  min?: number;
  max?: number;
}

type Def = { type: string; [k: string]: unknown };

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

function walk(schema: unknown, shape: Shape): void {
  const def = defOf(schema);
  if (def.type === 'prefault' && shape.prefault === undefined) shape.prefault = String(def.defaultValue);
  if (def.type === 'enum') shape.enumValues = Object.values(def.entries as Record<string, string>);
  for (const check of (def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? []) {
    const c = check._zod.def;
    if (c.check === 'number_format' && c.format === 'safeint') shape.integer = true;
    if (c.check === 'greater_than') shape.min = c.value as number;
    if (c.check === 'less_than') shape.max = c.value as number;
  }
  if (def.type === 'number') shape.numberSeen = true;
  if (def.type === 'string' && def.format === 'url') {
    const source = (def.protocol as RegExp | undefined)?.source ?? '';
    const m = /^\^\((.*)\)\$$/.exec(source);
    shape.urlProtocols = m ? m[1].split('|') : ['http', 'https'];
  }
  for (const key of ['in', 'out', 'innerType']) if (def[key]) walk(def[key], shape);
}

function probe(schema: z.ZodType, value: string | undefined): { ok: true; data: unknown } | { ok: false } {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false };
}

function range(shape: Shape): string {
  const min = shape.min !== undefined && shape.min > Number.MIN_SAFE_INTEGER ? shape.min : undefined;
  const max = shape.max !== undefined && shape.max < Number.MAX_SAFE_INTEGER ? shape.max : undefined;
  const n = (v: number) => String(v);
  if (min !== undefined && max !== undefined) return `, ${n(min)}–${n(max)}`;
  if (min !== undefined) return `, ≥ ${n(min)}`;
  if (max !== undefined) return `, ≤ ${n(max)}`;
  return '';
}

/** Defaults computed on the machine that runs the generator are shown as what they stand for. */
function portableDefault(value: string): string {
  return value.split(`${hostname()}-${process.pid}`).join('<hostname>-<pid>');
}

/** Type, default, required and secret of one variable, read from its zod builder. */
export function describeEnvVar(name: string, schema: z.ZodType, description = ''): EnvVarDoc {
  const shape: Shape = { integer: false, numberSeen: false };
  walk(schema, shape);
  const unset = probe(schema, undefined);
  const required = !unset.ok;
  const one = probe(schema, 'x');
  const two = probe(schema, 'a,b');
  // A URL builder refuses 'x': probe it with a URL of its own protocol (GATEWAY_REDIS_URL is a secret URL).
  const asUrl = shape.urlProtocols ? probe(schema, `${shape.urlProtocols[0]}://host:1`) : undefined;
  const secret = (one.ok && one.data instanceof Secret) || (two.ok && two.data instanceof Secret) || (asUrl?.ok === true && asUrl.data instanceof Secret);
  const secretList = two.ok && two.data instanceof Secret && Array.isArray(two.data.reveal());
  const asBool = probe(schema, 'true');
  const asBytes = probe(schema, '1kb');

  let type: string;
  if (shape.enumValues) type = `one of ${shape.enumValues.map((v) => `\`${v}\``).join(', ')}`;
  else if (shape.urlProtocols) type = `URL (${shape.urlProtocols.map((p) => `${p}://`).join(', ')})`;
  else if (shape.numberSeen && shape.integer) type = `integer${range(shape)}`;
  else if (shape.numberSeen) type = `seconds (decimal)${range(shape)}`;
  else if (asBool.ok && asBool.data === true) type = 'boolean';
  else if (asBytes.ok && asBytes.data === 1024) type = 'size: bytes, or with kb / mb / gb';
  else if (secretList) type = 'comma-separated list';
  else if (two.ok && Array.isArray(two.data)) type = 'comma-separated list';
  else type = 'string';

  const def = shape.prefault === undefined ? undefined : portableDefault(shape.prefault);
  return { name, type, default: def, required, secret, description };
}

export function describeSchema(shape: EnvShape, docs: (name: string) => string): EnvVarDoc[] {
  return Object.entries(shape).map(([name, schema]) => describeEnvVar(name, schema, docs(name)));
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderConfigTable(rows: EnvVarDoc[]): string {
  const lines = ['| variable | accepts | default | required | secret | description |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const def = r.default === undefined ? '—' : r.default === '' ? '(empty)' : `\`${cell(r.default)}\``;
    lines.push(`| \`${r.name}\` | ${cell(r.type)} | ${def} | ${r.required ? 'yes' : 'no'} | ${r.secret ? 'yes' : 'no'} | ${cell(r.description)} |`);
  }
  return lines.join('\n');
}
