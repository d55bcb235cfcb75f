import { env } from '@runnel/config';
import { z } from 'zod';
import { isBasePath } from './http/route-parser';
import { CHAT_PROVIDER_NAMES, type ChatProvider } from './runnables/chat-model-factory';
import { IdentityConfig } from './identity/identity-config';
import { LimitsConfig } from './limits/limits-config';
import { AgentsConfig } from './agents/agent-config';


/** The gateway's environment. Keys are the variable names; see docs/deployment.md for the table. */
export const GatewayConfigSchema = {
  /**
   * Port the gateway serves runnables on (HTTP and SSE); `/health` and `/ready` answer here too, for probes.
   */
  PORT: env.port(8080),
  /**
   * Interface both the traffic port and the metrics port bind to: `0.0.0.0` for all, `127.0.0.1` for local
   * access only.
   */
  HOST: env.str('0.0.0.0'),
  /**
   * Ops port: Prometheus `/metrics` plus `/health` and `/ready`. 0 picks a free port (logged at start-up).
   */
  METRICS_PORT: env.port(9090),
  /**
   * URL path prefix every runnable, `/openapi.json`, `/docs` and the index are served under (`/api/v1`), as
   * when LangServe's routes are mounted on a FastAPI router with a prefix; `/health` and `/ready` stay at the
   * root for probes. Empty: served at the root.
   */
  BASE_PATH: env.str('').refine(isBasePath, 'must be URL path segments of letters, digits and . _ ~ - separated by "/", e.g. /api/v1'),
  /** Lowest level written to the JSON log; `silent` turns logging off. */
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
  /**
   * Requests in flight at once per gateway instance; one more is refused straight away with 503 and
   * `Retry-After: 1` instead of being queued.
   */
  MAX_CONCURRENT_REQUESTS: env.int(100, { min: 1, max: 100_000 }),
  /**
   * Seconds (decimals allowed) a request may run in total, streams included; then the run is cancelled and
   * the client gets 504 (an `error` event on a stream). Keep ingress and proxy timeouts at least this long.
   */
  REQUEST_TIMEOUT: env.secondsAsMs(300, { min: 0.001 }),
  /**
   * Seconds one model call attempt may take before it is abandoned and, if retries remain, retried; while a
   * response streams it bounds the silence between chunks, not the whole answer.
   */
  LLM_TIMEOUT: env.secondsAsMs(120, { min: 0.001 }),
  /**
   * Retries of a failed model call after the first attempt, for retryable failures only (LLM_TIMEOUT, network
   * errors, HTTP 408/409/425/429/500/502/503/504/529); 0 disables them. A stream is retried only until its
   * first chunk.
   */
  MAX_RETRIES: env.int(3, { min: 0, max: 20 }),
  /**
   * Milliseconds: base of the backoff between model retries; each wait is random in [0, base × 2^attempt],
   * capped at 30 s, and never shorter than the provider's Retry-After (honoured up to 60 s).
   */
  RETRY_BACKOFF_MS: env.int(500, { min: 0, max: 600_000 }),
  /**
   * Largest request body accepted (`1mb` = 1,048,576 bytes); a larger one is refused with 413 as soon as it
   * is declared or exceeded, never buffered whole.
   */
  MAX_BODY_SIZE: env.bytes('1mb'),
  /**
   * Deepest nesting of arrays and objects accepted in a request body (the body object is level 1) and in a
   * `c/{hash}` config; deeper is refused with 422 before anything walks it. LangChain payloads (messages with
   * content parts, tool calls with their arguments, documents with metadata) nest well under 20 levels.
   */
  MAX_INPUT_DEPTH: env.int(100, { min: 2, max: 1_000 }),
  /**
   * Most entries accepted in any one array or object of a request body or `c/{hash}` config (batch inputs,
   * messages, keys); more is refused with 422, so a schema never has to check (and report) millions of them.
   */
  MAX_INPUT_ITEMS: env.int(10_000, { min: 1, max: 10_000_000 }),
  /**
   * Seconds between `: ping` comments on open SSE streams, so proxies and load balancers do not close a
   * stream while a model is slow to answer; 0 sends no pings.
   */
  STREAM_PING_INTERVAL: env.secondsAsMs(15, { min: 0 }),
  /**
   * Seconds from SIGTERM to a forced exit (code 1). Requests in flight get this minus min(2 s, a fifth of it)
   * to finish, then are cancelled (503); keep it below the pod's terminationGracePeriodSeconds.
   */
  SHUTDOWN_TIMEOUT: env.secondsAsMs(30, { min: 0.1 }),
  /**
   * Seconds a client has from a request's first byte to the end of its headers; then it gets 408 and the
   * connection is closed (headers trickled a byte at a time cannot hold a socket). Capped at BODY_TIMEOUT.
   */
  HEADERS_TIMEOUT: env.secondsAsMs(10, { min: 0.001 }),
  /**
   * Seconds a client has from a request's first byte to the end of its body; then it gets 408 and the
   * connection is closed. Only receiving the request counts: a run and its response stream are bounded by
   * REQUEST_TIMEOUT.
   */
  BODY_TIMEOUT: env.secondsAsMs(60, { min: 0.001 }),
  /**
   * Seconds an idle keep-alive connection stays open after a response. Keep it longer than the load
   * balancer's idle timeout (60 s on AWS ALB), so the balancer, not the gateway, closes idle connections.
   */
  KEEP_ALIVE_TIMEOUT: env.secondsAsMs(65, { min: 0.001 }),
  /**
   * Open connections per instance at most. A new connection past it closes the longest-idle one (kept alive
   * after a response, or not yet past its headers); when none is idle the new one is refused with 503. A
   * request still sending its body is not idle, but holds its connection for BODY_TIMEOUT at most.
   */
  MAX_CONNECTIONS: env.int(5_000, { min: 1, max: 1_000_000 }),
  /**
   * Comma-separated API keys clients must send as `Authorization: Bearer <key>` or `X-API-Key: <key>` (401
   * otherwise; the playground page itself is exempt). Each is a caller named `env-key-1`, `env-key-2`, … with
   * every scope; use GATEWAY_API_KEYS_FILE for named keys with scopes and limits. With neither (nor a JWT
   * setting): no auth, every route is open. Secret: redacted in logs.
   */
  GATEWAY_API_KEYS: env.secretList(),
  // GATEWAY_API_KEYS_FILE and GATEWAY_JWT_*: named callers with scopes (identity/identity-config.ts).
  ...IdentityConfig,
  // GATEWAY_REDIS_URL, GATEWAY_RATE_LIMIT, GATEWAY_CALLER_CONCURRENCY (limits/limits-config.ts).
  ...LimitsConfig,
  // POSTGRES_URI, LANGGRAPH_JSON, AGENT_* (agents/agent-config.ts): the LangGraph Platform API.
  ...AgentsConfig,
  /**
   * Comma-separated browser origins (exact, e.g. `https://app.example.com`) allowed to call the gateway
   * cross-origin, or `*` for any; empty allows none (same-origin use such as the playground always works).
   */
  CORS_ORIGINS: env.list(),
  /**
   * Module (a path, resolved from the working directory, or a package name) whose `register(registry, ctx)`
   * export adds your runnables at start-up; start-up fails if it cannot be loaded. Unset: only the built-ins.
   */
  RUNNABLES_MODULE: env.optionalStr(),
  /**
   * true: do not register the built-in `echo` and `chat` runnables, so only RUNNABLES_MODULE's are served;
   * start-up fails if that leaves none.
   */
  DISABLE_BUILTINS: env.bool(false),
  /**
   * Key for OpenAI, or for the OpenAI-compatible server at OPENAI_BASE_URL; when set (and CHAT_PROVIDERS is
   * unset) `chat` asks OpenAI first and falls back to Anthropic when ANTHROPIC_API_KEY is set too; with neither
   * key `chat` answers from a local deterministic model. Secret: redacted in logs.
   */
  OPENAI_API_KEY: env.secret(),
  /**
   * Base URL of an OpenAI-compatible API (a self-hosted model server or proxy) used instead of OpenAI's; only
   * used when OPENAI_API_KEY is set.
   */
  OPENAI_BASE_URL: env.url({ optional: true }),
  /**
   * Comma-separated providers `chat` tries in order (`openai`, `anthropic`, `local`): each one's retries
   * (MAX_RETRIES) come first, then on a retryable failure, or a 401/403/404 from that provider, the next one
   * answers; other 4xx (about the request itself) do not fall back, nor does a stream past its first chunk.
   * Each listed provider needs its key. Unset: OpenAI then Anthropic, for the keys that are set; the local
   * model when neither is.
   */
  CHAT_PROVIDERS: env
    .list()
    .pipe(
      z
        .array(z.enum(CHAT_PROVIDER_NAMES, { error: () => `must list only ${CHAT_PROVIDER_NAMES.join(', ')}` }))
        .refine((names) => new Set(names).size === names.length, 'must not name a provider twice'),
    ) as unknown as z.ZodType<ChatProvider[]>,
  /** Model `chat` asks OpenAI (or the OPENAI_BASE_URL server) for. */
  OPENAI_MODEL: env.str('gpt-4o-mini'),
  /**
   * Key for Anthropic; with CHAT_PROVIDERS unset `chat` uses Anthropic first when OPENAI_API_KEY is not set,
   * and as OpenAI's fallback when it is. Secret: redacted in logs.
   */
  ANTHROPIC_API_KEY: env.secret(),
  /** Model `chat` asks Anthropic for (when ANTHROPIC_API_KEY is the key in use). */
  ANTHROPIC_MODEL: env.str('claude-3-5-haiku-latest'),
  /**
   * Milliseconds the local model (used when no provider key is set) waits before each token of its reply, to
   * make streaming and cancellation visible in demos and tests; 0: no delay.
   */
  LOCAL_MODEL_TOKEN_DELAY_MS: env.int(0, { min: 0, max: 10_000 }),
};
