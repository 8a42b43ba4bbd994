/**
 * Captures what the functions write to stdout and stderr: Powertools Logger and Metrics write
 * through their own `Console` over `process.stdout`/`process.stderr`, so spying on the streams'
 * `write` sees exactly the lines CloudWatch Logs would get.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, vi } from 'vitest';

/** One JSON line written by a function: a log entry (has `level`) or an EMF blob (has `_aws`). */
export type OutputLine = Record<string, unknown>;

export interface EmfBlob extends OutputLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: ReadonlyArray<readonly string[]>;
      readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: string }>;
    }>;
  };
}

export interface CapturedOutput {
  /** Everything written, stdout then stderr order preserved per stream, as raw text. */
  text(): string;
  /** Every line parsed as JSON; a line that is not JSON fails the test with the line shown. */
  lines(): OutputLine[];
  logs(): OutputLine[];
  emf(): EmfBlob[];
  /** Forgets what was captured so far. */
  clear(): void;
  restore(): void;
}

/** Starts capturing; call `restore()` (in `finally` or `afterEach`). */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(record as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(record as typeof process.stderr.write);
  const lines = (): OutputLine[] =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as OutputLine;
        } catch {
          throw new Error(`a function wrote a line that is not JSON: ${l.slice(0, 300)}`);
        }
      });
  return {
    text: () => chunks.join(''),
    lines,
    logs: () => lines().filter((l) => !('_aws' in l)),
    emf: () => lines().filter((l): l is EmfBlob => '_aws' in l),
    clear: () => {
      chunks.length = 0;
    },
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

/**
 * Captures the output of each test of the calling describe, and after the test restores the
 * streams and undoes the environment variables it stubbed (`vi.stubEnv`: Powertools reads its
 * settings there). The returned capture reads the running test's.
 */
export function captureOutputPerTest(): CapturedOutput {
  let current: CapturedOutput | undefined;
  beforeEach(() => {
    current = captureOutput();
  });
  afterEach(() => {
    current?.restore();
    current = undefined;
    vi.unstubAllEnvs();
  });
  const running = (): CapturedOutput => {
    if (!current) throw new Error('the captured output is read outside a test');
    return current;
  };
  return {
    text: () => running().text(),
    lines: () => running().lines(),
    logs: () => running().logs(),
    emf: () => running().emf(),
    clear: () => running().clear(),
    restore: () => running().restore(),
  };
}

/** A Lambda context as the runtime passes it (only what Powertools Logger reads matters). */
export function lambdaContext(functionName: string, awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/07/02/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 5000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The metric values of an EMF blob, by name. */
export function metricValues(blob: EmfBlob): Record<string, unknown> {
  const names = blob._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((d) => d.Name));
  return Object.fromEntries(names.map((n) => [n, blob[n]]));
}
