import type { BaseStore, Item } from '@langchain/langgraph-checkpoint';
import { HttpError } from '../../protocol/http-error';
import type { AgentRouteHandlers } from '../http/agent-api';
import { json } from '../http/agent-reply';
import { parseBody, StoreDeleteSchema, StoreNamespacesSchema, StorePutSchema, StoreSearchSchema } from '../http/agent-request-schemas';

/** An item on the wire: snake_case timestamps, as the SDK's `Item` type has them. */
function toWire(item: Item | null | undefined): Record<string, unknown> | null {
  if (!item) return null;
  return { namespace: item.namespace, key: item.key, value: item.value, created_at: item.createdAt, updated_at: item.updatedAt };
}

/**
 * The store API over LangGraph's own store (PostgresStore in production): the very store graphs get
 * as `config.store`, so what a graph writes is what the API reads and the other way round.
 */
export function storeRoutes(store: BaseStore): AgentRouteHandlers {
  return {
    'store.put': async (r) => {
      const body = parseBody(StorePutSchema, await r.body());
      await store.put(body.namespace, body.key, body.value, body.index === null ? undefined : body.index);
      return { kind: 'empty', status: 204 };
    },
    'store.get': async (r) => {
      const key = r.query.get('key');
      if (!key) throw new HttpError(422, 'key: required (query parameter)');
      const raw = r.query.get('namespace');
      const namespace = raw ? raw.split('.') : [];
      return json(toWire(await store.get(namespace, key)));
    },
    'store.delete': async (r) => {
      const body = parseBody(StoreDeleteSchema, await r.body());
      await store.delete(body.namespace, body.key);
      return { kind: 'empty', status: 204 };
    },
    'store.search': async (r) => {
      const body = parseBody(StoreSearchSchema, await r.body());
      const items = await store.search(body.namespace_prefix ?? [], {
        filter: body.filter ?? undefined,
        limit: body.limit ?? 10,
        offset: body.offset ?? 0,
        query: body.query ?? undefined,
      });
      return json({ items: items.map(toWire) });
    },
    'store.namespaces': async (r) => {
      const body = parseBody(StoreNamespacesSchema, await r.body());
      const namespaces = await store.listNamespaces({
        prefix: body.prefix ?? undefined,
        suffix: body.suffix ?? undefined,
        maxDepth: body.max_depth ?? undefined,
        limit: body.limit ?? 100,
        offset: body.offset ?? 0,
      });
      return json({ namespaces });
    },
  };
}
