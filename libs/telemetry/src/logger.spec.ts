import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogCapture as capture } from './log-capture';
import { createLogger } from './logger';

describe('createLogger', () => {
  it('writes JSON lines with service, level label and ISO time; honours the level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'svc', level: 'warn', destination });
    log.info('hidden');
    log.warn({ a: 1 }, 'shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', service: 'svc', a: 1, msg: 'shown' });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('redacts secret-looking fields', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'svc', destination });
    log.info({ req: { headers: { authorization: 'Bearer abc', 'x-api-key': 'k' } }, password: 'p', apiKey: 'sk' }, 'x');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['Bearer abc', '"k"', '"p"', '"sk"']) expect(text).not.toContain(secret);
  });

  it('scrubs configured secret values out of logged errors, message, stack and cause', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'svc', destination, secrets: ['sk-live-abcdef123456'] });
    const err = new Error('401: invalid key sk-live-abcdef123456', { cause: new Error('upstream said sk-live-abcdef123456') });
    log.error({ err }, 'run failed');
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('sk-live-abcdef123456');
    expect(text).toContain('401: invalid key [redacted]');
  });

  it('adds trace_id and span_id while a span is active', () => {
    // What NodeSDK installs when tracing is on.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { lines, destination } = capture();
    const log = createLogger({ service: 'svc', destination });
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), () => log.info('inside'));
    log.info('outside');
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
    expect(lines[1].trace_id).toBeUndefined();
    context.disable();
  });
});
