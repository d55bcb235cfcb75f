import type { IncomingMessage } from 'node:http';
import { RunnableLambda } from '@langchain/core/runnables';
import { setIdentity, type Identity } from '../caller/identity';
import { Scopes } from '../caller/scopes';
import { resolveRoute } from '../registry/resolved-route';
import { LANGSERVE_PROTOCOL_VERSION, serverRunConfig } from './run-config';

const route = resolveRoute(RunnableLambda.from((x: unknown) => x), { path: 'echo' });
const signal = new AbortController().signal;
const request = (): IncomingMessage => ({ headers: { 'user-agent': 'spec' } }) as unknown as IncomingMessage;

describe('serverRunConfig: the caller in run metadata', () => {
  it('with auth off, strips runnel_caller keys a client wrote into its metadata', () => {
    const config = serverRunConfig(route, { configurable: {}, metadata: { runnel_caller: 'admin', runnel_caller_kind: 'api_key', mine: 1 } }, request(), 'invoke', signal);
    expect(config.metadata).toEqual({ mine: 1, __useragent: 'spec', __langserve_version: LANGSERVE_PROTOCOL_VERSION, __langserve_endpoint: 'invoke' });
  });

  it('with auth off and no client metadata, has LangServe keys only', () => {
    const config = serverRunConfig(route, { configurable: {} }, request(), 'stream', signal);
    expect(config.metadata).toEqual({ __useragent: 'spec', __langserve_version: LANGSERVE_PROTOCOL_VERSION, __langserve_endpoint: 'stream' });
    expect(config).toMatchObject({ runName: '/echo', configurable: {}, signal });
  });

  it('with a caller, names it over whatever the client wrote there', () => {
    const req = request();
    const identity: Identity = { name: 'support-bot', kind: 'api_key', scopes: Scopes.all };
    setIdentity(req, identity);
    const config = serverRunConfig(route, { configurable: {}, metadata: { runnel_caller: 'admin' } }, req, 'invoke', signal);
    expect(config.metadata).toMatchObject({ runnel_caller: 'support-bot', runnel_caller_kind: 'api_key' });
  });
});
