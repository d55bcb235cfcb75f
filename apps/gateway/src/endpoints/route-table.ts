import type { EndpointTable } from '../http/endpoint-handler';
import { batch } from './batch';
import { invoke } from './invoke';
import { playground } from './playground';
import { schema } from './schemas';
import { stream } from './stream';
import { streamEvents } from './stream-events';
import { streamLog } from './stream-log';

/** LangServe's endpoints, as the gateway serves them under each runnable's path. */
export const LANGSERVE_ENDPOINTS: EndpointTable = {
  invoke: { method: 'POST', run: invoke },
  batch: { method: 'POST', run: batch },
  stream: { method: 'POST', run: stream },
  stream_log: { method: 'POST', run: streamLog },
  stream_events: { method: 'POST', run: streamEvents },
  input_schema: { method: 'GET', run: schema },
  output_schema: { method: 'GET', run: schema },
  config_schema: { method: 'GET', run: schema },
  playground: { method: 'GET', public: true, run: playground },
};
