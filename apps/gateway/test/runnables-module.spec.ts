import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startTestGateway } from './gateway-harness';

describe('RUNNABLES_MODULE', () => {
  it('registers the user module\'s runnables beside the built-ins, with their options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-mod-'));
    const file = join(dir, 'my-runnables.cjs');
    writeFileSync(
      file,
      `const { RunnableLambda } = require(${JSON.stringify(require.resolve('@langchain/core/runnables'))});
       exports.register = async (registry, ctx) => {
         registry.addRoutes(RunnableLambda.from((x) => String(x).toUpperCase()), {
           path: 'upper', enabledEndpoints: ['invoke'],
           perRequestConfigModifier: (config, req) => ({ ...config, configurable: { ...config.configurable, ua: req.headers['user-agent'] } }),
         });
         registry.addRoutes(RunnableLambda.from((_x, config) => config.configurable), { path: 'whoami', perRequestConfigModifier: (config, req) => ({ configurable: { caller: req.headers['x-caller'] ?? 'anon' } }) });
         if (typeof ctx.chatModel.invoke !== 'function') throw new Error('no chat model in ctx');
       };`,
    );
    const gw = await startTestGateway({ RUNNABLES_MODULE: file });
    try {
      expect(gw.app.runnables.paths).toEqual(['echo', 'chat', 'upper', 'whoami']);
      expect((await postJson(`${gw.url}/upper/invoke`, { input: 'abc' })).body.output).toBe('ABC');
      expect((await postJson(`${gw.url}/upper/stream`, { input: 'abc' })).status).toBe(404);
      // The modifier's value wins over what the client sends.
      const who = await postJson(`${gw.url}/whoami/invoke`, { input: 1, config: { configurable: { caller: 'spoof' } } }, { 'x-caller': 'svc-a' });
      expect(who.body.output).toEqual({ caller: 'svc-a' });
    } finally {
      await gw.close();
    }
  });

  it('refuses contradictory route options at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-mod-'));
    // Each case in its own file: the module loader caches by path.
    const file = (n: number) => join(dir, `bad-${n}.cjs`);
    writeFileSync(
      file(1),
      `const { RunnableLambda } = require(${JSON.stringify(require.resolve('@langchain/core/runnables'))});
       exports.register = (registry) => registry.addRoutes(RunnableLambda.from((x) => x), { path: 'x', enabledEndpoints: ['invoke'], disabledEndpoints: ['batch'] });`,
    );
    await expect(startTestGateway({ RUNNABLES_MODULE: file(1) })).rejects.toThrow(/enabledEndpoints or disabledEndpoints, not both/);
    writeFileSync(file(2), `exports.register = (registry) => registry.addRoutes({}, { path: 'x', disabledEndpoints: ['explode'] });`);
    await expect(startTestGateway({ RUNNABLES_MODULE: file(2) })).rejects.toThrow(/unknown endpoint "explode"/);
    writeFileSync(file(3), `exports.nothing = 1;`);
    await expect(startTestGateway({ RUNNABLES_MODULE: file(3) })).rejects.toThrow(/must export a function "register/);
  });
});
