import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { AgentRunnableConfig, Assistant, Metadata } from '../agent-types';
import { jsonb, transaction } from './agent-database';
import { ConflictError, NotFoundError } from './storage-errors';

/** The namespace of graph assistants' ids (the reference's NAMESPACE_GRAPH, RFC 4122's OID namespace). */
export const GRAPH_ASSISTANT_NAMESPACE = '6ba7b821-9dad-11d1-80b4-00c04fd430c8';

/** RFC 4122 version 5 (SHA-1, name-based) UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of a graph's default assistant: what an `assistant_id` naming a graph id resolves to. */
export function graphAssistantId(graphId: string): string {
  return uuidV5(graphId, GRAPH_ASSISTANT_NAMESPACE);
}

/** One version of an assistant (`POST /assistants/{id}/versions`): the assistant as it was, without `updated_at`. */
export type AssistantVersion = Omit<Assistant, 'updated_at'>;

export interface AssistantCreate {
  /** A new uuid when absent. */
  assistant_id?: string;
  graph_id: string;
  config?: AgentRunnableConfig;
  context?: unknown;
  metadata?: Metadata;
  /** The graph id when empty. */
  name?: string;
  description?: string | null;
  /** 'raise' (the default): ConflictError when the id is taken; 'do_nothing': the existing assistant. */
  if_exists?: 'raise' | 'do_nothing';
}

/** Fields given replace the assistant's, except `metadata`, which is merged into it (shallowly). */
export interface AssistantPatch {
  graph_id?: string;
  config?: AgentRunnableConfig;
  context?: unknown;
  metadata?: Metadata;
  name?: string;
  description?: string | null;
}

export type AssistantSortBy = 'assistant_id' | 'graph_id' | 'name' | 'created_at' | 'updated_at';
export type SortOrder = 'asc' | 'desc';

export interface AssistantFilter {
  graph_id?: string;
  /** Case-insensitive substring of the name. */
  name?: string;
  /** jsonb containment (`metadata @> filter`). */
  metadata?: Metadata;
}

export interface AssistantSearch extends AssistantFilter {
  limit?: number;
  offset?: number;
  /** created_at when absent. */
  sort_by?: AssistantSortBy;
  /** desc when absent. */
  sort_order?: SortOrder;
}

const SORT_COLUMNS: Record<AssistantSortBy, string> = {
  assistant_id: 'assistant_id',
  graph_id: 'graph_id',
  name: 'name',
  created_at: 'created_at',
  updated_at: 'updated_at',
};

const NOT_FOUND = 'Assistant not found';

interface AssistantRow {
  assistant_id: string;
  graph_id: string;
  name: string;
  description: string | null;
  config: AgentRunnableConfig | null;
  context: unknown;
  metadata: Metadata | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

function toAssistant(row: AssistantRow): Assistant {
  return {
    assistant_id: row.assistant_id,
    graph_id: row.graph_id,
    name: row.name,
    description: row.description,
    config: row.config ?? {},
    context: row.context ?? {},
    metadata: row.metadata ?? {},
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toVersion(row: Omit<AssistantRow, 'updated_at'>): AssistantVersion {
  const { updated_at: _, ...version } = toAssistant({ ...row, updated_at: row.created_at });
  return version;
}

/** WHERE clause (with its parameters from `$1`) for a filter. */
function filterClause(filter: AssistantFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.graph_id != null) {
    params.push(filter.graph_id);
    conditions.push(`graph_id = $${params.length}`);
  }
  if (filter.name != null) {
    params.push(`%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    conditions.push(`name ILIKE $${params.length}`);
  }
  if (filter.metadata != null && Object.keys(filter.metadata).length > 0) {
    params.push(jsonb(filter.metadata));
    conditions.push(`metadata @> $${params.length}::jsonb`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** Anything with `deleteThread` (LangGraph's PostgresSaver): checkpoints of threads deleted with an assistant. */
export interface ThreadCheckpoints {
  deleteThread(threadId: string): Promise<void>;
}

/**
 * Assistants and their versions (`runnel_agent_assistants`, `runnel_agent_assistant_versions`).
 * Every change of an assistant is a new version; `setLatest` makes an older one current again.
 */
export class AssistantRepository {
  constructor(
    private readonly pool: Pool,
    /** Deletes the checkpoints of threads removed by `delete(id, { deleteThreads: true })`. */
    private readonly checkpoints?: ThreadCheckpoints,
  ) {}

  /**
   * The default assistant of a graph (id `graphAssistantId(graphId)`, metadata
   * `{ created_by: 'system' }`), created if missing and left as it is otherwise (every replica
   * calls this at start for every registered graph). `description`: the one the graph was registered with
   * (addGraph's option), given to a new assistant.
   */
  async ensureGraphAssistant(graphId: string, description?: string): Promise<Assistant> {
    return this.create({ assistant_id: graphAssistantId(graphId), graph_id: graphId, metadata: { created_by: 'system' }, name: graphId, description, if_exists: 'do_nothing' });
  }

  /** @throws NotFoundError */
  async get(assistantId: string): Promise<Assistant> {
    const found = await this.find(assistantId);
    if (!found) throw new NotFoundError(NOT_FOUND);
    return found;
  }

  async find(assistantId: string): Promise<Assistant | null> {
    const { rows } = await this.pool.query<AssistantRow>('SELECT * FROM runnel_agent_assistants WHERE assistant_id = $1', [assistantId]);
    return rows[0] ? toAssistant(rows[0]) : null;
  }

  async search(options: AssistantSearch = {}): Promise<Assistant[]> {
    const { where, params } = filterClause(options);
    const column = SORT_COLUMNS[options.sort_by ?? 'created_at'] ?? 'created_at';
    const order = options.sort_order === 'asc' ? 'ASC' : 'DESC';
    params.push(options.limit ?? 10, options.offset ?? 0);
    const { rows } = await this.pool.query<AssistantRow>(
      `SELECT * FROM runnel_agent_assistants ${where}
       ORDER BY ${column} ${order}, assistant_id ${order}
       LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toAssistant);
  }

  async count(filter: AssistantFilter = {}): Promise<number> {
    const { where, params } = filterClause(filter);
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM runnel_agent_assistants ${where}`, params);
    return Number(rows[0].n);
  }

  /**
   * A new assistant at version 1 (with its version row).
   * @throws ConflictError when the id is taken and `if_exists` is 'raise' (the default)
   */
  async create(input: AssistantCreate): Promise<Assistant> {
    const assistantId = input.assistant_id ?? randomUUID();
    return transaction(this.pool, async (client) => {
      const values = [
        assistantId,
        input.graph_id,
        input.name || input.graph_id,
        input.description ?? null,
        jsonb(input.config ?? {}),
        jsonb(input.context ?? {}),
        jsonb(input.metadata ?? {}),
      ];
      const inserted = await client.query<AssistantRow>(
        `INSERT INTO runnel_agent_assistants (assistant_id, graph_id, name, description, config, context, metadata, version)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 1)
         ON CONFLICT (assistant_id) DO NOTHING
         RETURNING *`,
        values,
      );
      if (inserted.rows[0]) {
        await client.query(
          `INSERT INTO runnel_agent_assistant_versions (assistant_id, graph_id, name, description, config, context, metadata, version, created_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 1, $8)`,
          [...values, inserted.rows[0].created_at],
        );
        return toAssistant(inserted.rows[0]);
      }
      if ((input.if_exists ?? 'raise') === 'raise') throw new ConflictError('Assistant already exists');
      const existing = await client.query<AssistantRow>('SELECT * FROM runnel_agent_assistants WHERE assistant_id = $1', [assistantId]);
      // Deleted between the conflict and this read: as if it had been created and deleted at once.
      if (!existing.rows[0]) throw new NotFoundError(NOT_FOUND);
      return toAssistant(existing.rows[0]);
    });
  }

  /**
   * Applies `patch` as a new version (the highest so far + 1), which becomes the current one.
   * @throws NotFoundError
   */
  async update(assistantId: string, patch: AssistantPatch): Promise<Assistant> {
    return transaction(this.pool, async (client) => {
      const current = await this.#lock(client, assistantId);
      const { rows: maxRows } = await client.query<{ max: number }>(
        'SELECT max(version) AS max FROM runnel_agent_assistant_versions WHERE assistant_id = $1',
        [assistantId],
      );
      const version = Math.max(maxRows[0]?.max ?? 0, current.version) + 1;
      const next = {
        graph_id: patch.graph_id ?? current.graph_id,
        name: patch.name ?? current.name,
        description: patch.description ?? current.description,
        config: patch.config ?? current.config,
        context: patch.context ?? current.context,
        metadata: patch.metadata != null ? { ...current.metadata, ...patch.metadata } : current.metadata,
      };
      const values = [assistantId, next.graph_id, next.name, next.description, jsonb(next.config), jsonb(next.context), jsonb(next.metadata), version];
      const { rows } = await client.query<AssistantRow>(
        `UPDATE runnel_agent_assistants
         SET graph_id = $2, name = $3, description = $4, config = $5::jsonb, context = $6::jsonb, metadata = $7::jsonb,
             version = $8, updated_at = now()
         WHERE assistant_id = $1 RETURNING *`,
        values,
      );
      await client.query(
        `INSERT INTO runnel_agent_assistant_versions (assistant_id, graph_id, name, description, config, context, metadata, version, created_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9)`,
        [...values, rows[0].updated_at],
      );
      return toAssistant(rows[0]);
    });
  }

  /**
   * The assistant's versions, newest first.
   * @throws NotFoundError when the assistant does not exist
   */
  async versions(assistantId: string, options: { limit?: number; offset?: number; metadata?: Metadata } = {}): Promise<AssistantVersion[]> {
    const params: unknown[] = [assistantId];
    let where = 'assistant_id = $1';
    if (options.metadata != null && Object.keys(options.metadata).length > 0) {
      params.push(jsonb(options.metadata));
      where += ` AND metadata @> $${params.length}::jsonb`;
    }
    params.push(options.limit ?? 10, options.offset ?? 0);
    const { rows } = await this.pool.query<Omit<AssistantRow, 'updated_at'>>(
      `SELECT * FROM runnel_agent_assistant_versions WHERE ${where}
       ORDER BY version DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    if (rows.length === 0 && !(await this.find(assistantId))) throw new NotFoundError(`Assistant "${assistantId}" not found.`);
    return rows.map(toVersion);
  }

  /**
   * Makes `version` the current one (its graph, name, description, config, context and metadata).
   * @throws NotFoundError for an unknown assistant ('Assistant not found') or version ('Assistant version not found')
   */
  async setLatest(assistantId: string, version: number): Promise<Assistant> {
    return transaction(this.pool, async (client) => {
      await this.#lock(client, assistantId);
      const { rows } = await client.query<AssistantRow>(
        `UPDATE runnel_agent_assistants a
         SET graph_id = v.graph_id, name = v.name, description = v.description, config = v.config,
             context = v.context, metadata = v.metadata, version = v.version, updated_at = now()
         FROM runnel_agent_assistant_versions v
         WHERE a.assistant_id = $1 AND v.assistant_id = a.assistant_id AND v.version = $2
         RETURNING a.*`,
        [assistantId, version],
      );
      if (!rows[0]) throw new NotFoundError('Assistant version not found');
      return toAssistant(rows[0]);
    });
  }

  /**
   * Deletes the assistant, its versions and its runs; with `deleteThreads`, also the threads whose
   * metadata names it (`metadata.assistant_id`), their runs and checkpoints. Returns `[assistantId]`.
   * @throws NotFoundError
   */
  async delete(assistantId: string, options: { deleteThreads?: boolean } = {}): Promise<string[]> {
    const threadIds = await transaction(this.pool, async (client) => {
      await this.#lock(client, assistantId);
      // Threads before their runs, as every run change locks them (claim, finish, create): the
      // other order could deadlock with a replica finishing one of these runs.
      const { rows: touched } = await client.query<{ thread_id: string }>(
        `SELECT thread_id FROM runnel_agent_threads
         WHERE thread_id IN (SELECT thread_id FROM runnel_agent_runs WHERE assistant_id = $1) OR ($2::boolean AND metadata @> $3::jsonb)
         ORDER BY thread_id FOR UPDATE`,
        [assistantId, options.deleteThreads === true, jsonb({ assistant_id: assistantId })],
      );
      await client.query('DELETE FROM runnel_agent_runs WHERE assistant_id = $1', [assistantId]);
      // A thread that was busy only with this assistant's runs has none left: idle, not busy forever.
      await client.query(
        `UPDATE runnel_agent_threads t SET status = 'idle', updated_at = now()
         WHERE t.thread_id = ANY($1::text[]) AND t.status = 'busy'
           AND NOT EXISTS (SELECT 1 FROM runnel_agent_runs r WHERE r.thread_id = t.thread_id AND r.status IN ('pending', 'running'))`,
        [touched.map((r) => r.thread_id)],
      );
      let deleted: string[] = [];
      if (options.deleteThreads) {
        const { rows } = await client.query<{ thread_id: string }>(
          'DELETE FROM runnel_agent_threads WHERE metadata @> $1::jsonb RETURNING thread_id',
          [jsonb({ assistant_id: assistantId })],
        );
        deleted = rows.map((r) => r.thread_id);
      }
      await client.query('DELETE FROM runnel_agent_assistants WHERE assistant_id = $1', [assistantId]);
      return deleted;
    });
    if (this.checkpoints) for (const threadId of threadIds) await this.checkpoints.deleteThread(threadId);
    return [assistantId];
  }

  async #lock(client: PoolClient, assistantId: string): Promise<Assistant> {
    const { rows } = await client.query<AssistantRow>('SELECT * FROM runnel_agent_assistants WHERE assistant_id = $1 FOR UPDATE', [assistantId]);
    if (!rows[0]) throw new NotFoundError(NOT_FOUND);
    return toAssistant(rows[0]);
  }
}
