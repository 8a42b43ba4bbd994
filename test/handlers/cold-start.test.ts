import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, ENV, numberEnv, requireEnv, sourceSecretsEnv } from '../../lambda/common/env.js';
import { createJsonLogger, parseLogLevel, type LogLevel } from '../../lambda/common/logger.js';

describe('env helpers (read once at cold start, failing fast with the variable named)', () => {
  it('requireEnv returns a set value', () => {
    expect(requireEnv({ QUEUE_URL: 'https://q' }, ENV.QUEUE_URL)).toBe('https://q');
  });

  it.each([[{}], [{ QUEUE_URL: '' }], [{ QUEUE_URL: '  ' }]])('requireEnv(%j) throws naming QUEUE_URL', (env) => {
    expect(() => requireEnv(env, ENV.QUEUE_URL)).toThrow(new ConfigurationError('environment variable QUEUE_URL is not set'));
  });

  it.each([
    [undefined, 90],
    ['', 90],
    ['30', 30],
    ['0.5', 0.5],
  ])('numberEnv(%j) → %d', (raw, expected) => {
    expect(numberEnv(raw === undefined ? {} : { EVENT_RETENTION_DAYS: raw }, ENV.EVENT_RETENTION_DAYS, 90)).toBe(expected);
  });

  it.each(['abc', '-1', '0', 'Infinity', '1e400'])('numberEnv(%j) throws naming the variable and the value', (raw) => {
    expect(() => numberEnv({ EVENT_RETENTION_DAYS: raw }, ENV.EVENT_RETENTION_DAYS, 90)).toThrow(
      `EVENT_RETENTION_DAYS must be a positive number, got '${raw}'`,
    );
  });

  it('sourceSecretsEnv reads the source → secret ARN map', () => {
    expect(sourceSecretsEnv({ SOURCE_SECRETS: '{"default":"arn:1","eu-app":"arn:2"}' })).toEqual({ default: 'arn:1', 'eu-app': 'arn:2' });
  });

  it.each([
    [{}, 'SOURCE_SECRETS is not set'],
    [{ SOURCE_SECRETS: 'arn:1' }, "SOURCE_SECRETS must be a JSON object of source name to secret ARN, got 'arn:1'"],
    [{ SOURCE_SECRETS: '["arn:1"]' }, 'SOURCE_SECRETS must be a JSON object'],
    [{ SOURCE_SECRETS: '{"default":7}' }, 'SOURCE_SECRETS must be a JSON object'],
    [{ SOURCE_SECRETS: 'null' }, 'SOURCE_SECRETS must be a JSON object'],
  ])('sourceSecretsEnv(%j) throws: %s', (env, message) => {
    expect(() => sourceSecretsEnv(env)).toThrow(message);
  });
});

describe('createJsonLogger', () => {
  function capture(level?: LogLevel) {
    const lines: Array<{ line: string; level: LogLevel }> = [];
    const logger = createJsonLogger({ service: 'receiver', ...(level ? { level } : {}), write: (line, l) => lines.push({ line, level: l }) });
    return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>) };
  }

  it('writes one JSON line per entry with level, timestamp, service, message and fields', () => {
    const { logger, parsed, lines } = capture();
    logger.info('accepted', { eventId: 'abc', bodyBytes: 12 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.line).not.toContain('\n');
    const [entry] = parsed();
    expect(Object.keys(entry ?? {})).toEqual(['level', 'timestamp', 'service', 'message', 'eventId', 'bodyBytes']);
    expect(entry).toMatchObject({ level: 'INFO', service: 'receiver', message: 'accepted', eventId: 'abc', bodyBytes: 12 });
    expect(new Date(entry?.timestamp as string).toISOString()).toBe(entry?.timestamp);
  });

  it('drops entries below its level (INFO by default)', () => {
    const { logger, parsed } = capture();
    logger.debug('noise');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(parsed().map((e) => e.level)).toEqual(['INFO', 'WARN', 'ERROR']);
  });

  it('a field cannot overwrite the level, message or service', () => {
    const { logger, parsed } = capture('DEBUG');
    logger.error('real message', { level: 'DEBUG', message: 'fake', service: 'other', extra: 1 });
    expect(parsed()[0]).toMatchObject({ level: 'ERROR', message: 'real message', service: 'receiver', extra: 1 });
  });

  it.each([
    ['debug', 'DEBUG'],
    ['Warn', 'WARN'],
    ['ERROR', 'ERROR'],
    [undefined, 'INFO'],
    ['verbose', 'INFO'],
  ])('parseLogLevel(%j) → %s', (raw, level) => {
    expect(parseLogLevel(raw)).toBe(level);
  });
});

describe('Lambda entry points: environment read once at import', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    vi.resetModules();
    for (const name of Object.values(ENV)) delete process.env[name];
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });
  /** Sets variables for the entry point imported next (the `afterEach` above puts the environment back). */
  const setEnv = (vars: Record<string, string>) => Object.assign(process.env, vars);
  /** The two variables the receiver cannot start without. */
  const RECEIVER_REQUIRED = {
    QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q',
    SOURCE_SECRETS: '{"default":"arn:aws:secretsmanager:us-east-1:1:secret:x"}',
  };

  it('receiver: fails to start naming a missing variable', async () => {
    setEnv({ SOURCE_SECRETS: RECEIVER_REQUIRED.SOURCE_SECRETS });
    await expect(import('../../lambda/receiver/index.js')).rejects.toThrow('environment variable QUEUE_URL is not set');
  });

  it('receiver: starts with its variables set', async () => {
    setEnv({ ...RECEIVER_REQUIRED, ARCHIVE_BUCKET_NAME: 'archive', RECEIVER_DEADLINE_MS: '800', AWS_REGION: 'us-east-1' });
    const mod = await import('../../lambda/receiver/index.js');
    expect(typeof mod.handler).toBe('function');
  });

  it('receiver: fails to start on a bad deadline, naming the variable', async () => {
    setEnv({ ...RECEIVER_REQUIRED, RECEIVER_DEADLINE_MS: '1s' });
    await expect(import('../../lambda/receiver/index.js')).rejects.toThrow("RECEIVER_DEADLINE_MS must be a positive number, got '1s'");
  });

  it('receiver: without the archive bucket it starts, warning that there is no claim check and no spill', async () => {
    setEnv({ ...RECEIVER_REQUIRED, AWS_REGION: 'us-east-1' });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const mod = await import('../../lambda/receiver/index.js');
      expect(typeof mod.handler).toBe('function');
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain('ARCHIVE_BUCKET_NAME is not set: no claim check and no spill');
  });

  it("the receiver's entry point imports the S3 client lazily (bench/cold-start.ts measures why)", () => {
    const source = readFileSync(new URL('../../lambda/receiver/index.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import[^\n]*@aws-sdk\/client-s3/m);
    expect(source).not.toMatch(/^import[^\n]*s3-blob-store/m);
    expect(source).toContain("import('@aws-sdk/client-s3')");
  });

  it('fan-out: fails to start naming a missing variable, and on a bad retention', async () => {
    setEnv({ TABLE_NAME: 'events' });
    await expect(import('../../lambda/fanout/index.js')).rejects.toThrow('environment variable DELIVERY_STREAM_NAME is not set');
    vi.resetModules();
    setEnv({ DELIVERY_STREAM_NAME: 'stream', EVENT_RETENTION_DAYS: 'ninety' });
    await expect(import('../../lambda/fanout/index.js')).rejects.toThrow("EVENT_RETENTION_DAYS must be a positive number, got 'ninety'");
  });

  it('fan-out: starts with its variables set', async () => {
    setEnv({ TABLE_NAME: 'events', DELIVERY_STREAM_NAME: 'stream', ARCHIVE_BUCKET_NAME: 'archive', AWS_REGION: 'us-east-1' });
    const mod = await import('../../lambda/fanout/index.js');
    expect(typeof mod.handler).toBe('function');
  });
});
