import { checkInputBounds, type InputBounds } from '../../protocol/input-bounds';
import { decodeConfigHash } from '../../protocol/run-config';
import type { Guard } from '../guard';

/**
 * Decodes the `c/{config_hash}` part (its length was bounded by the route parser) and checks it
 * against MAX_BODY_SIZE, MAX_INPUT_DEPTH and MAX_INPUT_ITEMS like a body: 400 when it is not a config,
 * 413 / 422 when too big.
 * Runs after the caller guards, so an unauthenticated client cannot make the gateway decompress.
 */
export function configHashGuard(bounds: InputBounds, maxChars: number): Guard {
  return {
    name: 'config_hash',
    check(ctx) {
      if (ctx.configHash === undefined) return;
      const config = decodeConfigHash(ctx.configHash, maxChars);
      checkInputBounds(config, bounds, 'config hash');
      ctx.hashConfig = config;
    },
  };
}
