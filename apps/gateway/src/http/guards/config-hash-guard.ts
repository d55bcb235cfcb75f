import { checkInputBounds, type InputBounds } from '../../protocol/input-bounds';
import { decodeConfigHash } from '../../protocol/run-config';
import type { Guard } from '../guard';

/**
 * Decodes the `c/{config_hash}` part (its length was bounded by the route parser) and checks it
 * against MAX_INPUT_DEPTH / MAX_INPUT_ITEMS like a body: 400 when it is not a config, 422 when too big.
 * Runs after the caller guards, so an unauthenticated client cannot make the gateway decompress.
 */
export function configHashGuard(bounds: InputBounds): Guard {
  return {
    name: 'config_hash',
    check(ctx) {
      if (ctx.configHash === undefined) return;
      const config = decodeConfigHash(ctx.configHash);
      checkInputBounds(config, bounds, 'config hash');
      ctx.hashConfig = config;
    },
  };
}
