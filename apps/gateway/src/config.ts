import { env } from '@runnel/config';

/** The gateway's environment. Keys are the variable names; see docs/deployment.md for the table. */
export const GatewayConfigSchema = {
  PORT: env.port(8080),
  HOST: env.str('0.0.0.0'),
  METRICS_PORT: env.port(9090),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
  MAX_CONCURRENT_REQUESTS: env.int(100, { min: 1, max: 100_000 }),
  REQUEST_TIMEOUT: env.secondsAsMs(300, { min: 0.001 }),
  LLM_TIMEOUT: env.secondsAsMs(120, { min: 0.001 }),
  MAX_RETRIES: env.int(3, { min: 0, max: 20 }),
  RETRY_BACKOFF_MS: env.int(500, { min: 0, max: 600_000 }),
  MAX_BODY_SIZE: env.bytes('1mb'),
  STREAM_PING_INTERVAL: env.secondsAsMs(15, { min: 0 }),
  SHUTDOWN_TIMEOUT: env.secondsAsMs(30, { min: 0.1 }),
  GATEWAY_API_KEYS: env.secretList(),
  CORS_ORIGINS: env.list(),
  RUNNABLES_MODULE: env.optionalStr(),
  DISABLE_BUILTINS: env.bool(false),
  OPENAI_API_KEY: env.secret(),
  OPENAI_BASE_URL: env.url({ optional: true }),
  OPENAI_MODEL: env.str('gpt-4o-mini'),
  ANTHROPIC_API_KEY: env.secret(),
  ANTHROPIC_MODEL: env.str('claude-3-5-haiku-latest'),
  LOCAL_MODEL_TOKEN_DELAY_MS: env.int(0, { min: 0, max: 10_000 }),
};
