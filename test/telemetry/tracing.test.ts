/**
 * The fan-out's tracing as it runs in Lambda: the X-Ray SDK in Lambda mode (facade segment from
 * `_X_AMZN_TRACE_ID`) sends each closed subsegment to the daemon address over UDP; here that
 * address is a socket of the test, so the `## handler` subsegment can be read back.
 * (Each test file runs in its own process, so the SDK's module-level Lambda setup stays here.)
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface SentSubsegment {
  readonly name: string;
  readonly trace_id: string;
  readonly parent_id?: string;
  readonly annotations?: Record<string, unknown>;
  readonly fault?: boolean;
  readonly error?: boolean;
  readonly cause?: { exceptions?: Array<{ message?: string }> };
}

const TRACE_ID = '1-5759e988-bd862e3fe1be46a994272793';

describe('traceHandler (fan-out) in a Lambda environment with active tracing', () => {
  let socket: Socket;
  const received: SentSubsegment[] = [];
  let waiters: Array<() => void> = [];
  let tracing: typeof import('../../lambda/common/tracing.js');
  const saved = { ...process.env };

  beforeAll(async () => {
    socket = createSocket('udp4');
    socket.on('message', (msg) => {
      // An X-Ray daemon datagram: a JSON header line, then the (sub)segment document.
      const [, doc] = msg.toString('utf8').split('\n');
      if (doc) received.push(JSON.parse(doc) as SentSubsegment);
      for (const w of waiters) w();
      waiters = [];
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: '/var/task',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _HANDLER: 'index.handler',
      _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
      AWS_XRAY_LOG_LEVEL: 'silent',
    });
    tracing = await import('../../lambda/common/tracing.js');
  });

  afterAll(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  });

  /** Waits until `n` subsegments arrived (UDP on loopback: no timing assumption beyond delivery). */
  async function until(n: number): Promise<void> {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  }

  it('wraps each invocation in a "## index.handler" subsegment annotated with ColdStart and Service', async () => {
    const tracer = tracing.createTracer('fanout');
    expect(tracer.isTracingEnabled()).toBe(true);
    const handler = tracing.traceHandler(tracer, async (event: { n: number }) => event.n * 2);

    expect(await handler({ n: 21 })).toBe(42);
    await until(1);
    expect(received[0]).toMatchObject({
      name: '## index.handler',
      trace_id: TRACE_ID,
      parent_id: '53995c3f42cd8ad8',
      annotations: { ColdStart: true, Service: 'fanout' },
    });

    expect(await handler({ n: 1 })).toBe(2);
    await until(2);
    expect(received[1]?.annotations).toEqual({ ColdStart: false, Service: 'fanout' });
  });

  it('an invocation that throws marks its subsegment with the error, and the error still reaches Lambda', async () => {
    const tracer = tracing.createTracer('fanout');
    const handler = tracing.traceHandler(tracer, async () => {
      throw new Error('store unavailable');
    });
    const before = received.length;
    await expect(handler(undefined)).rejects.toThrow('store unavailable');
    await until(before + 1);
    const sub = received[before] as SentSubsegment;
    expect(sub.name).toBe('## index.handler');
    expect(sub.fault === true || sub.error === true).toBe(true);
    expect(sub.cause?.exceptions?.[0]?.message).toBe('store unavailable');
  });
});
