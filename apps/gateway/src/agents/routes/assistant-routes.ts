import type { AgentRouteHandlers } from '../http/agent-api';
import { json, selectFields } from '../http/agent-reply';
import {
  AssistantCreateSchema,
  AssistantLatestSchema,
  AssistantPatchSchema,
  AssistantSearchSchema,
  AssistantVersionsSchema,
  parseBody,
} from '../http/agent-request-schemas';
import type { GraphLoader } from '../graphs/graph-loader';
import { graphSchemas } from '../graphs/graph-schemas';
import type { AssistantRepository } from '../storage/assistant-repository';
import { NotFoundError } from '../storage/storage-errors';

/** Assistants: one per graph made at start (graph-assistants), more made by clients; each change a version. */
export function assistantRoutes(assistants: AssistantRepository, graphs: GraphLoader): AgentRouteHandlers {
  /** An `{assistant_id}` path parameter: a served graph's id names that graph's own assistant, as on the reference (and in runs). */
  const idOf = (param: string) => graphs.assistantId(param);
  const graphOf = async (assistantId: string, xray?: boolean | number) => {
    const assistant = await assistants.get(idOf(assistantId));
    const graph = await graphs.load(assistant.graph_id, assistant.config);
    const drawable = await graph.getGraphAsync({ ...assistant.config, xray } as Parameters<typeof graph.getGraphAsync>[0]);
    return { assistant, graph, drawable };
  };
  return {
    'assistants.create': async (r) => {
      const body = parseBody(AssistantCreateSchema, await r.body());
      if (!graphs.has(body.graph_id)) throw new NotFoundError(`Graph "${body.graph_id}" not found`);
      return json(
        await assistants.create({
          assistant_id: body.assistant_id ?? undefined,
          graph_id: body.graph_id,
          config: body.config ?? undefined,
          context: body.context,
          metadata: body.metadata ?? undefined,
          name: body.name ?? undefined,
          description: body.description ?? undefined,
          if_exists: body.if_exists ?? undefined,
        }),
      );
    },
    'assistants.search': async (r) => {
      const body = parseBody(AssistantSearchSchema, await r.body());
      const found = await assistants.search({
        graph_id: body.graph_id ?? undefined,
        name: body.name ?? undefined,
        metadata: body.metadata ?? undefined,
        limit: body.limit ?? 10,
        offset: body.offset ?? 0,
        sort_by: body.sort_by ?? undefined,
        sort_order: body.sort_order ?? undefined,
      });
      return json(found.map((a) => selectFields(a as unknown as Record<string, unknown>, body.select)));
    },
    'assistants.count': async (r) => {
      const body = parseBody(AssistantSearchSchema, await r.body());
      return json(await assistants.count({ graph_id: body.graph_id ?? undefined, name: body.name ?? undefined, metadata: body.metadata ?? undefined }));
    },
    'assistants.get': async (r) => json(await assistants.get(idOf(r.params.assistant_id))),
    'assistants.update': async (r) => {
      const body = parseBody(AssistantPatchSchema, await r.body());
      if (body.graph_id && !graphs.has(body.graph_id)) throw new NotFoundError(`Graph "${body.graph_id}" not found`);
      return json(
        await assistants.update(idOf(r.params.assistant_id), {
          graph_id: body.graph_id ?? undefined,
          config: body.config ?? undefined,
          context: body.context,
          metadata: body.metadata ?? undefined,
          name: body.name ?? undefined,
          description: body.description ?? undefined,
        }),
      );
    },
    'assistants.delete': async (r) => {
      await assistants.delete(idOf(r.params.assistant_id), { deleteThreads: r.query.get('delete_threads') === 'true' });
      return { kind: 'empty', status: 204 };
    },
    'assistants.versions': async (r) => {
      const body = parseBody(AssistantVersionsSchema, await r.body());
      return json(await assistants.versions(idOf(r.params.assistant_id), { metadata: body.metadata ?? undefined, limit: body.limit ?? 10, offset: body.offset ?? 0 }));
    },
    'assistants.latest': async (r) => {
      const body = parseBody(AssistantLatestSchema, await r.body());
      return json(await assistants.setLatest(idOf(r.params.assistant_id), body.version));
    },
    'assistants.graph': async (r) => {
      const xrayParam = r.query.get('xray');
      const xray = xrayParam === null ? undefined : xrayParam === 'true' ? true : Number.isFinite(Number(xrayParam)) ? Number(xrayParam) : false;
      const { drawable } = await graphOf(r.params.assistant_id, xray);
      return json(drawable.toJSON());
    },
    'assistants.subgraphs': async (r) => {
      const { graph } = await graphOf(r.params.assistant_id);
      const out: Record<string, unknown> = {};
      const recurse = r.query.get('recurse') === 'true';
      for await (const [ns, subgraph] of graph.getSubgraphsAsync(r.params.namespace, recurse)) out[ns] = graphSchemas(subgraph) ?? {};
      return json(out);
    },
    'assistants.schemas': async (r) => {
      const assistant = await assistants.get(idOf(r.params.assistant_id));
      // No schema the graph carries (an Annotation state): nulls, where the reference would parse the source.
      const s = graphSchemas(await graphs.load(assistant.graph_id, assistant.config)) ?? { input: null, output: null, state: null, config: null };
      // As the reference: a schema the graph lacks is left out (undefined), and config stands for
      // context too (JS graphs cannot tell them apart).
      return json({ graph_id: assistant.graph_id, input_schema: s.input, output_schema: s.output, state_schema: s.state, config_schema: s.config, context_schema: s.config });
    },
  };
}
