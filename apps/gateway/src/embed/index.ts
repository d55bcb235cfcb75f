// The gateway as a library: add LangServe routes to your own app (see docs/embedding.md).
export { addRoutes, type MiddlewareHost } from './add-routes';
export { EmbeddedGateway, type EmbeddedGatewayOptions } from './embedded-gateway';
export type { RouteOptions, PerRequestConfigModifier } from '../registry/route-options';
export { HttpError } from '../protocol/http-error';
