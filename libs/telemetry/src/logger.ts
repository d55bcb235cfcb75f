import { trace } from '@opentelemetry/api';
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are always replaced, in case a secret reaches a log line as a plain
 * string (a header object, a library's options). Config secrets are `Secret` objects and print
 * as "[redacted]" on their own.
 */
const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
];

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
  /**
   * Secret values to scrub from logged errors. Errors carry text the service did not write (a
   * provider or proxy may echo an API key in its message), so field-name redaction cannot catch it.
   */
  secrets?: string[];
}

function scrubber(secrets: string[]): ((err: unknown) => unknown) | undefined {
  if (secrets.length === 0) return undefined;
  return (err) => {
    let text = JSON.stringify(pino.stdSerializers.err(err as Error));
    for (const secret of secrets) text = text.split(JSON.stringify(secret).slice(1, -1)).join('[redacted]');
    return JSON.parse(text);
  };
}

export function createLogger({ service, level = 'info', destination, secrets = [] }: LoggerConfig): Logger {
  const scrubError = scrubber(secrets);
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: scrubError ? { err: scrubError } : undefined,
    // Correlates log lines with traces when a span is active (only when tracing is on).
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
