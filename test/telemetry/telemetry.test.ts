/** The shared telemetry module: Powertools Logger and Metrics behind the core's ports. */
import { describe, expect, it, vi } from 'vitest';
import { withLogFields, type LogFields, type Logger } from '../../lambda/core/telemetry.js';
import { createTelemetry, logLevelFromEnv, requestIdKeys } from '../../lambda/common/powertools.js';
import { handlerMetrics } from '../../lambda/core/fanout.js';
import { captureOutputPerTest, lambdaContext, metricValues, type EmfBlob } from './capture.js';

describe('shared telemetry (Powertools behind the ports)', () => {
  const out = captureOutputPerTest();

  it('writes one JSON line per entry with the service, level, message and fields', () => {
    const t = createTelemetry({ service: 'receiver', env: {} });
    t.logger.info('accepted', { eventId: 'e1', bodyBytes: 12 });
    const [line, ...rest] = out.logs();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'INFO', message: 'accepted', service: 'receiver', eventId: 'e1', bodyBytes: 12 });
    expect(new Date(line?.timestamp as string).toISOString()).toBe(line?.timestamp);
  });

  it.each([
    [{}, ['INFO', 'WARN', 'ERROR']],
    [{ LOG_LEVEL: 'debug' }, ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    [{ LOG_LEVEL: 'WARN' }, ['WARN', 'ERROR']],
    [{ LOG_LEVEL: 'ERROR' }, ['ERROR']],
  ])('LOG_LEVEL %j lets through %j', (env, levels) => {
    const t = createTelemetry({ service: 'fanout', env });
    t.logger.debug('d');
    t.logger.info('i');
    t.logger.warn('w');
    t.logger.error('e');
    expect(out.logs().map((l) => l.level)).toEqual(levels);
  });

  it('an unknown LOG_LEVEL logs at INFO and says so, naming the variable and the value', () => {
    expect(logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toEqual({ level: 'INFO', invalid: 'verbose' });
    const t = createTelemetry({ service: 'fanout', env: { LOG_LEVEL: 'verbose' } });
    t.logger.debug('hidden');
    t.logger.info('shown');
    const lines = out.logs();
    expect(lines.map((l) => l.message)).toEqual([expect.stringContaining("LOG_LEVEL is 'verbose', not one of DEBUG, INFO, WARN, ERROR"), 'shown']);
    expect(lines[0]?.level).toBe('WARN');
  });

  it('debug sampling is off, whatever POWERTOOLS_LOGGER_SAMPLE_RATE says', () => {
    vi.stubEnv('POWERTOOLS_LOGGER_SAMPLE_RATE', '1');
    const t = createTelemetry({ service: 'fanout', env: { LOG_LEVEL: 'INFO' } });
    t.logger.debug('sampled?');
    t.logger.info('i');
    expect(out.logs().map((l) => l.message)).toEqual(['i']);
    expect(out.logs()[0]?.sampling_rate).toBe(0);
  });

  it('a field named like a Powertools key is kept under field_<name>, without a warning and without disguising the line', () => {
    const t = createTelemetry({ service: 'receiver', env: {} });
    t.logger.info('real', { service: 'other', level: 'DEBUG', message: 'fake', timestamp: 'then', extra: 1 });
    const lines = out.logs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'real',
      service: 'receiver',
      field_service: 'other',
      field_level: 'DEBUG',
      field_message: 'fake',
      field_timestamp: 'then',
      extra: 1,
    });
  });

  it('flushing with nothing counted writes nothing and does not throw', () => {
    const t = createTelemetry({ service: 'receiver', env: {} });
    expect(() => t.metrics.flush()).not.toThrow();
    expect(out.text()).toBe('');
  });

  it('sums counts into one EMF blob per flush; dimensioned counts go to one single-metric blob each', () => {
    const t = createTelemetry({ service: 'fanout', env: {} });
    t.metrics.count('RecordsReceived', 3);
    t.metrics.count('Stored');
    t.metrics.count('Stored');
    t.metrics.count('HandlerSucceeded', 1, { handler: 'a' });
    t.metrics.count('HandlerSucceeded', 1, { handler: 'a' });
    t.metrics.count('HandlerSucceeded', 1, { handler: 'b' });
    t.metrics.count('HandlerFailed', 1, { handler: 'a' });
    // The service dimension is already on every metric: naming it again changes nothing.
    t.metrics.count('Archived', 2, { service: 'fanout' });
    t.metrics.flush();
    const blobs = out.emf();
    expect(blobs.map((b) => ({ dims: b._aws.CloudWatchMetrics[0]?.Dimensions, handler: b.handler, values: metricValues(b) }))).toEqual([
      { dims: [['service']], handler: undefined, values: { RecordsReceived: 3, Stored: 2, Archived: 2 } },
      { dims: [['service', 'handler']], handler: 'a', values: { HandlerSucceeded: 2 } },
      { dims: [['service', 'handler']], handler: 'b', values: { HandlerSucceeded: 1 } },
      { dims: [['service', 'handler']], handler: 'a', values: { HandlerFailed: 1 } },
    ]);
    // Flushed means cleared: a second flush writes nothing.
    out.clear();
    t.metrics.flush();
    expect(out.text()).toBe('');
  });

  it("a handler's own metric (ctx.metrics) is published in the namespace under { service, handler }", () => {
    const t = createTelemetry({ service: 'fanout', env: {} });
    const own = handlerMetrics('link-spam', t.metrics);
    own.count('LinksSeen');
    own.count('LinksSeen', 2);
    t.metrics.flush();
    expect(
      out.emf().map((b) => ({
        ns: b._aws.CloudWatchMetrics[0]?.Namespace,
        dims: b._aws.CloudWatchMetrics[0]?.Dimensions,
        service: b.service,
        handler: b.handler,
        values: metricValues(b),
      })),
    ).toEqual([{ ns: 'SocialPlusWebhooks', dims: [['service', 'handler']], service: 'fanout', handler: 'link-spam', values: { LinksSeen: 3 } }]);
  });

  it("publishes in the namespace METRICS_NAMESPACE names (the stack's metricsNamespace), else the contract's", () => {
    const custom = createTelemetry({ service: 'receiver', env: { METRICS_NAMESPACE: 'MyCo/Webhooks' } });
    custom.metrics.count('Received');
    custom.metrics.flush();
    const fallback = createTelemetry({ service: 'receiver', env: { METRICS_NAMESPACE: ' ' } });
    fallback.metrics.count('Received');
    fallback.metrics.flush();
    expect(out.emf().map((b) => b._aws.CloudWatchMetrics[0]?.Namespace)).toEqual(['MyCo/Webhooks', 'SocialPlusWebhooks']);
  });

  it('a non-finite count is ignored rather than breaking the flush', () => {
    const t = createTelemetry({ service: 'receiver', env: {} });
    t.metrics.count('Received', Number.NaN);
    t.metrics.count('Received', 1);
    t.metrics.flush();
    expect(metricValues(out.emf()[0] as EmfBlob)).toEqual({ Received: 1 });
  });

  it('instrument: adds the Lambda context and the per-invocation keys, flushes at the end, and forgets the keys', async () => {
    const t = createTelemetry({ service: 'receiver', env: {} });
    const handler = t.instrument(
      async (event: { requestContext?: { requestId?: string } }) => {
        t.logger.info('working');
        t.metrics.count('Received');
        return event.requestContext?.requestId ?? 'none';
      },
      { keys: requestIdKeys },
    );

    expect(await handler({ requestContext: { requestId: 'req-1' } }, lambdaContext('fn', 'aws-1'))).toBe('req-1');
    const first = out.lines();
    expect(first).toHaveLength(2);
    expect(first[0]).toMatchObject({ message: 'working', requestId: 'req-1', function_request_id: 'aws-1', cold_start: false });
    // The log group names the function: its name and ARN are not repeated on every line.
    expect(first[0]).not.toHaveProperty('function_name');
    expect(first[0]).not.toHaveProperty('function_arn');
    expect(metricValues(first[1] as EmfBlob)).toEqual({ Received: 1 });

    out.clear();
    await handler({}, lambdaContext('fn', 'aws-2'));
    const [second] = out.logs();
    expect(second).toMatchObject({ message: 'working', function_request_id: 'aws-2', cold_start: false });
    expect(second).not.toHaveProperty('requestId');
  });

  it('instrument: an invocation that throws is logged at ERROR, its metrics still flushed, and the error rethrown', async () => {
    const t = createTelemetry({ service: 'fanout', env: {} });
    const handler = t.instrument(async () => {
      t.metrics.count('RecordsReceived', 2);
      throw new TypeError('boom');
    });
    await expect(handler(undefined, lambdaContext('fn', 'aws-3'))).rejects.toThrow('boom');
    expect(out.logs()).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'invocation failed', error: 'TypeError: boom', function_request_id: 'aws-3' }),
    ]);
    expect(metricValues(out.emf()[0] as EmfBlob)).toEqual({ RecordsReceived: 2 });
  });
});

describe('withLogFields (the correlation id on every line about one event)', () => {
  function recording(): { logger: Logger; calls: Array<[string, string, LogFields | undefined]> } {
    const calls: Array<[string, string, LogFields | undefined]> = [];
    const at = (level: string) => (message: string, fields?: LogFields) => {
      calls.push([level, message, fields]);
    };
    return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, calls };
  }

  it("adds the fields at every level; a line's own fields win", () => {
    const { logger, calls } = recording();
    const child = withLogFields(logger, { eventId: 'e1', requestId: 'r1' });
    child.debug('d');
    child.info('i', { n: 1 });
    child.warn('w', { eventId: 'other' });
    child.error('e', {});
    expect(calls).toEqual([
      ['debug', 'd', { eventId: 'e1', requestId: 'r1' }],
      ['info', 'i', { eventId: 'e1', requestId: 'r1', n: 1 }],
      ['warn', 'w', { eventId: 'other', requestId: 'r1' }],
      ['error', 'e', { eventId: 'e1', requestId: 'r1' }],
    ]);
  });

  it('does not change the logger it wraps', () => {
    const { logger, calls } = recording();
    withLogFields(logger, { eventId: 'e1' });
    logger.info('plain');
    expect(calls).toEqual([['info', 'plain', undefined]]);
  });
});
