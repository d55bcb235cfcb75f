import { HttpError } from '../../protocol/http-error';
import type { Guard, GuardContext } from '../guard';

/** 405 with `Allow` unless the request uses the endpoint's method (HEAD counts as GET). */
export function methodGuard(methodOf: (ctx: GuardContext) => 'GET' | 'POST'): Guard {
  return {
    name: 'method',
    check(ctx) {
      const method = methodOf(ctx);
      const got = ctx.req.method;
      if (got === method || (method === 'GET' && got === 'HEAD')) return;
      throw new HttpError(405, `Method ${got} not allowed on ${ctx.endpoint}; use ${method}`, { allow: method }, 'client');
    },
  };
}
