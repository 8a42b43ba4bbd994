/**
 * The EventBridge forwarder through the real SDK client against a fake EventBridge endpoint on
 * localhost (there is no EventBridge emulator): the entry's fields, the filtered set, the 256 KB
 * limit, a rejected entry (retried by the queue) and what a retry sends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, LoggingEventPublisher } from '../../lambda/adapters/eventbridge-publisher.js';
import { parseHandlersConfig } from '../../lambda/fanout/handlers/config.js';
import { createEventBridgeForwarder, EVENTBRIDGE_MAX_ENTRY_BYTES, entrySizeBytes } from '../../lambda/fanout/handlers/eventbridge-forwarder.js';
import { RecordingLogger, runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';

interface PutEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Time: number;
}

let server: Server;
let client: EventBridgeClient;
const received: Array<{ target: string; entries: PutEntry[] }> = [];
/** Error code to answer for the next entries, one per call. */
const failNext: string[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: PutEntry[] };
    received.push({ target: String(req.headers['x-amz-target']), entries: body.Entries });
    const code = failNext.shift();
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify(
        code
          ? { FailedEntryCount: 1, Entries: [{ ErrorCode: code, ErrorMessage: 'slow down' }] }
          : { FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `eb-${received.length}-${i}` })) },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  client = new EventBridgeClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});
afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  failNext.length = 0;
});

const forwarder = (events?: string[]) =>
  createEventBridgeForwarder(parseHandlersConfig({ eventBridge: { enabled: true, ...(events ? { events } : {}) } }).eventBridge, {
    publisher: new EventBridgePublisher(client, 'socialplus-bus'),
  });

describe('EventBridge forwarder', () => {
  it('puts one entry per event: source, detail-type = routing name, the payload as sent', async () => {
    const event = sampleEvent('v3.post.didCreate');
    const run = await runHandler(forwarder(), event, { eventId: 'e1', receivedAt: '2025-07-02T11:30:01.000Z', source: 'eu-app' });
    expect(run.ctx.eventType).toBe('post.didCreate');
    expect(received).toHaveLength(1);
    expect(received[0]?.target).toBe('AWSEvents.PutEvents');
    const [entry] = received[0]?.entries ?? [];
    expect(entry).toMatchObject({
      Source: 'socialplus.webhooks',
      DetailType: 'post.didCreate',
      EventBusName: 'socialplus-bus',
      Time: Date.parse('2025-07-02T11:30:01.000Z') / 1000,
    });
    expect(JSON.parse(entry?.Detail ?? '')).toEqual({
      eventId: 'e1',
      eventType: 'post.didCreate',
      eventName: 'v3.post.didCreate',
      receivedAt: '2025-07-02T11:30:01.000Z',
      source: 'eu-app',
      deprecated: false,
      payload: event,
    });
  });

  it('forwards the payload exactly as parsed, even fields the catalog would leave out', async () => {
    const event = sampleEvent('message.didFlag', (e) => {
      (e.data.messages![0] as Record<string, unknown>).userId = 42;
    });
    await runHandler(forwarder(), event);
    expect(JSON.parse(received[0]?.entries[0]?.Detail ?? '').payload.data.messages[0].userId).toBe(42);
  });

  it('forwards only the configured events', async () => {
    const handler = forwarder(['message.*', 'user.didFlag']);
    expect(handler.events).toEqual(['message.*', 'user.didFlag']);
    await runHandler(handler, sampleEvent('message.didAddReaction'));
    await expect(runHandler(handler, sampleEvent('v3.post.didCreate'))).rejects.toThrow("does not subscribe to 'post.didCreate'");
    expect(received).toHaveLength(1);
  });

  it('sends an entry over 256 KB without its payload, and warns', async () => {
    const event = sampleEvent('message.didCreate', (e) => {
      e.data.messages![0]!.data = { text: 'x'.repeat(EVENTBRIDGE_MAX_ENTRY_BYTES) };
    });
    const run = await runHandler(forwarder(), event, { eventId: 'big' });
    const detail = JSON.parse(received[0]?.entries[0]?.Detail ?? '');
    expect(detail).toMatchObject({
      eventId: 'big',
      eventType: 'message.didCreate',
      payload: null,
      payloadOmitted: true,
      payloadOmittedReason: 'too-large',
    });
    expect(detail.payloadBytes).toBeGreaterThan(EVENTBRIDGE_MAX_ENTRY_BYTES);
    expect(run.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'event too large for EventBridge; forwarding it without its payload',
    ]);
  });

  it('sends a payload nested too deeply to serialize without it, instead of failing on every retry', async () => {
    // JSON.parse reads such a body (iteratively); JSON.stringify, structuredClone and the test kit
    // (recursive) cannot copy it, so the handler is called the way the fan-out calls it.
    let nested: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) nested = [nested];
    expect(() => JSON.stringify(nested)).toThrow(RangeError);
    const event = { ...sampleEvent('message.didCreate'), deep: nested };
    const logger = new RecordingLogger();
    const ctx = {
      eventId: 'deep',
      eventType: 'message.didCreate',
      eventName: 'message.didCreate',
      receivedAt: '2025-07-02T11:30:01.000Z',
      source: 'default',
      deprecated: false,
      logger,
      metrics: { count: () => undefined },
    };
    await forwarder().handle(event as never, ctx);
    expect(JSON.parse(received[0]?.entries[0]?.Detail ?? '')).toMatchObject({
      eventId: 'deep',
      eventType: 'message.didCreate',
      payload: null,
      payloadOmitted: true,
      payloadOmittedReason: 'nested-too-deeply',
    });
    expect(logger.entries.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'payload nested too deeply to serialize; forwarding the event without it',
    ]);
  });

  it('an entry of exactly the limit keeps its payload', async () => {
    const base = { source: 'socialplus.webhooks', detailType: 'x', time: new Date() };
    const detail = 'y'.repeat(EVENTBRIDGE_MAX_ENTRY_BYTES - entrySizeBytes({ ...base, detail: '' }));
    expect(entrySizeBytes({ ...base, detail })).toBe(EVENTBRIDGE_MAX_ENTRY_BYTES);
    expect(entrySizeBytes({ ...base, detail: 'é' })).toBe(entrySizeBytes({ ...base, detail: 'ee' }));
  });

  it('throws when EventBridge rejects the entry, and the retry sends the same event id', async () => {
    failNext.push('ThrottlingException');
    const event = sampleEvent('user.didFlag');
    // A redelivery keeps the event's id and arrival time (queue attributes).
    const delivery = { eventId: 'e9', receivedAt: '2025-07-02T09:16:03.000Z' };
    await expect(runHandler(forwarder(), event, delivery)).rejects.toThrow(
      "EventBridge bus 'socialplus-bus' rejected the entry: ThrottlingException (slow down)",
    );
    await runHandler(forwarder(), event, delivery);
    const details = received.map((r) => JSON.parse(r.entries[0]?.Detail ?? ''));
    expect(details.map((d) => d.eventId)).toEqual(['e9', 'e9']);
    expect(details[0]).toEqual(details[1]);
  });

  it('local mode logs what it would put', async () => {
    const logger = new RecordingLogger();
    const handler = createEventBridgeForwarder(parseHandlersConfig({ eventBridge: { enabled: true } }).eventBridge, {
      publisher: new LoggingEventPublisher(logger),
    });
    await runHandler(handler, sampleEvent('follow.didCreate'));
    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: 'event bus (local stand-in): would put event',
        fields: expect.objectContaining({ detailType: 'follow.didCreate', source: 'socialplus.webhooks' }),
      },
    ]);
  });
});
