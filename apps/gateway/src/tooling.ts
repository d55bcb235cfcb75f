/**
 * What tools/ may use of the gateway (the one entry point the module-boundary rule allows them,
 * as `@runnel/gateway/tooling`): its config schema, for the deployment checks and the generated
 * config docs, and its metric factories, for the metrics docs and the dashboard/alert checks.
 * Nothing here runs; the service itself never imports this file.
 */
export { GatewayConfigSchema } from './config';
export { GatewayMetrics } from './gateway-metrics';
export { IdentityMetrics } from './identity/identity-metrics';
export { LimitMetrics } from './limits/limit-metrics';
export { AgentMetrics } from './agents/agent-metrics';
