import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SocialPlusWebhooksError } from '../core/errors.js';
import type { Logger } from '../core/telemetry.js';
import { entrySizeBytes } from '../fanout/handlers/eventbridge-forwarder.js';
import type { BusEntry, EventPublisher } from '../fanout/handlers/state-ports.js';

/** EventBridge did not accept an entry; retrying the event may succeed (throttling, an outage). */
export class EventBridgePutError extends SocialPlusWebhooksError {
  constructor(busName: string, code: string | undefined, message: string | undefined) {
    super(`EventBridge bus '${busName}' rejected the entry: ${code ?? 'unknown error'}${message ? ` (${message})` : ''}`);
    this.name = 'EventBridgePutError';
  }
}

/** The forwarder's bus on EventBridge: one PutEvents per event, a rejected entry thrown so the event is retried. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(entry: BusEntry): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.busName, Source: entry.source, DetailType: entry.detailType, Detail: entry.detail, Time: entry.time }],
      }),
    );
    const result = out.Entries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0 || result?.ErrorCode) throw new EventBridgePutError(this.busName, result?.ErrorCode, result?.ErrorMessage);
  }
}

/** Local mode's stand-in (there is no EventBridge emulator): logs each entry's type, size and source. */
export class LoggingEventPublisher implements EventPublisher {
  constructor(
    private readonly logger: Logger,
    private readonly busName = 'local',
  ) {}

  async publish(entry: BusEntry): Promise<void> {
    this.logger.info('event bus (local stand-in): would put event', {
      bus: this.busName,
      source: entry.source,
      detailType: entry.detailType,
      bytes: entrySizeBytes(entry),
    });
  }
}
