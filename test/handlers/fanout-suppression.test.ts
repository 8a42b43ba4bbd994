/**
 * The fan-out and the suppression list (docs/privacy.md, `erase --also-future`): an event naming a
 * listed user is acknowledged and dropped (not stored, archived or dispatched; its spill deleted;
 * counted `Suppressed`; one INFO line with its event id and no user id), the others of the batch
 * go through, and a list that cannot be read retries the records instead of letting them through.
 * The events come from the real receiver, as the queue and the inbox get them.
 */
import { describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { spillKey } from '../../lambda/core/inbox.js';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import type { SuppressionList } from '../../lambda/core/privacy/suppression.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { InMemoryBlobStore, InMemoryQueue } from '../support/fakes.js';
import { signedReceiver } from '../support/in-memory-receiver.js';
import { recordingFanout } from '../support/in-memory-fanout.js';
import { s3NotificationRecord, sqsEvent, sqsRecord } from '../support/sqs.js';

const SECRET = 'sp-suppression-secret-71';
const ALICE = 'alice.listed.3';
const BOB = 'bob.unlisted.4';
const AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);

/** A message of `userId` (the sender: a user field of the message family). */
const message = (userId: string, text: string) =>
  JSON.stringify({ event: 'v3.message.didCreate', data: { messages: [{ messageId: `m-${text}`, channelId: 'general', userId, data: { text } }] } });
/** A channel event naming `userId` in its payload only, the actor being someone else. */
const addedToChannel = (userId: string) =>
  JSON.stringify({ event: 'v3.channel.didAddUsers', data: { channel: { channelId: 'c1' }, userIds: [userId], adderId: 'mod.someone' } });

/** A suppression list that answers `hashes` (or fails with `error`) and counts how often it is asked. */
function list(hashes: readonly string[], error?: Error): SuppressionList & { asked: number } {
  const port = {
    asked: 0,
    async userIdHashes() {
      port.asked++;
      if (error) throw error;
      return new Set(hashes);
    },
  };
  return port;
}

function setup(suppression?: SuppressionList) {
  const blobs = new InMemoryBlobStore();
  const { fanout, calls, archive, store, logger, metrics } = recordingFanout({ now: AT, blobs, ...(suppression ? { suppression } : {}) });
  const queue = new InMemoryQueue();
  const receiver = signedReceiver(SECRET, { queue, blobs });
  /** What the receiver enqueues for each body, in order. */
  const received = async (...bodies: Array<string | Buffer>): Promise<QueueMessage[]> => {
    for (const body of bodies) {
      const event = typeof body === 'string' ? signedWebhookEvent(body, SECRET) : signedWebhookEvent(body, SECRET, { base64: true });
      expect((await receiver(event)).statusCode).toBe(200);
    }
    return queue.messages.splice(0);
  };
  const archivedIds = () => archive.lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id);
  return { fanout, received, queue, blobs, calls, archive, store, logger, metrics, archivedIds };
}

const failures = (ids: readonly string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });

describe('the fan-out drops the events of users on the suppression list', () => {
  it("acknowledges a listed user's events without storing, archiving or dispatching them; the rest of the batch goes through", async () => {
    const s = setup(list([userIdHash(ALICE)]));
    const bodies = [message(ALICE, 'a1'), message(BOB, 'b1'), addedToChannel(ALICE), addedToChannel(BOB)];
    const messages = await s.received(...bodies);
    const records = messages.map((m, i) => sqsRecord(m, { messageId: `rec-${i}` }));

    expect(await s.fanout(sqsEvent(records))).toEqual(failures([]));
    const bobs = [eventIdOf(bodies[1] as string), eventIdOf(bodies[3] as string)];
    expect([...s.store.items.keys()].sort()).toEqual([...bobs].sort());
    expect(s.archivedIds().sort()).toEqual([...bobs].sort());
    expect(s.calls.map((c) => c.ctx.eventId).sort()).toEqual([...bobs].sort());
    expect(s.metrics.total('Suppressed')).toBe(2);
    expect(s.metrics.total('Stored')).toBe(2);
  });

  it('says so in one INFO line per event, with the event id and never the user id', async () => {
    const s = setup(list([userIdHash(ALICE)]));
    const [m] = await s.received(message(ALICE, 'a2'));
    await s.fanout(sqsEvent([sqsRecord(m as QueueMessage)]));
    const dropped = s.logger.at('info').filter((e) => e.message.includes('suppression list'));
    expect(dropped.map((e) => e.fields)).toEqual([{ eventId: eventIdOf(message(ALICE, 'a2')) }]);
    for (const line of s.logger.lines()) expect(line).not.toContain(ALICE);
  });

  it('drops a spilled event of a listed user and deletes its spill', async () => {
    const s = setup(list([userIdHash(ALICE)]));
    s.queue.failWith = new Error('ServiceUnavailable');
    const body = message(ALICE, 'spilled');
    await s.received(body);
    const key = spillKey(AT, eventIdOf(body));
    expect(s.blobs.keys()).toEqual([key]);

    expect(await s.fanout(sqsEvent([s3NotificationRecord(s.blobs.bucket, [key])]))).toEqual(failures([]));
    expect(s.blobs.keys()).toEqual([]);
    expect(s.store.items.size).toBe(0);
    expect(s.archive.lines).toEqual([]);
    expect(s.calls).toEqual([]);
    expect(s.metrics.total('Suppressed')).toBe(1);
  });

  it('reads a body that is not UTF-8 from its bytes, as the erasure does', async () => {
    const s = setup(list([userIdHash(ALICE)]));
    // The text of her message holds two bytes that are not UTF-8.
    const text = message(ALICE, 'a6');
    const at = text.lastIndexOf('a6');
    const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(at))]);
    const messages = await s.received(bytes, message(BOB, 'b6'));
    expect(messages[0]?.attributes.bodyEncoding).toBe('base64');

    expect(await s.fanout(sqsEvent(messages.map((m) => sqsRecord(m))))).toEqual(failures([]));
    expect([...s.store.items.keys()]).toEqual([eventIdOf(message(BOB, 'b6'))]);
    expect(s.metrics.total('Suppressed')).toBe(1);
  });

  it('an empty list, or a list of others, drops nothing', async () => {
    for (const hashes of [[], [userIdHash('carol.other')]]) {
      const port = list(hashes);
      const s = setup(port);
      const bodies = [message(ALICE, 'a3'), message(BOB, 'b3')];
      const messages = await s.received(...bodies);
      expect(await s.fanout(sqsEvent(messages.map((m) => sqsRecord(m))))).toEqual(failures([]));
      expect([...s.store.items.keys()].sort()).toEqual(bodies.map(eventIdOf).sort());
      expect(s.archive.lines).toHaveLength(2);
      expect(s.calls).toHaveLength(2);
      expect(s.metrics.total('Suppressed')).toBe(0);
      // Asked once for the batch, not per event.
      expect(port.asked).toBe(1);
    }
  });

  it('a list that cannot be read retries every record of the batch, and lets nothing through', async () => {
    const s = setup(list([], new Error('AccessDenied: s3:GetObject')));
    const messages = await s.received(message(ALICE, 'a4'), message(BOB, 'b4'));
    const records = messages.map((m, i) => sqsRecord(m, { messageId: `rec-${i}` }));

    expect(await s.fanout(sqsEvent(records))).toEqual(failures(['rec-0', 'rec-1']));
    expect(s.store.items.size).toBe(0);
    expect(s.archive.lines).toEqual([]);
    expect(s.calls).toEqual([]);
    expect(s.logger.at('error').find((e) => e.message.includes('suppression list'))?.fields).toMatchObject({
      records: 2,
      error: 'AccessDenied: s3:GetObject',
    });
  });

  it('without a list (no archive bucket configured), nothing is dropped', async () => {
    const s = setup();
    const messages = await s.received(message(ALICE, 'a5'));
    expect(await s.fanout(sqsEvent(messages.map((m) => sqsRecord(m))))).toEqual(failures([]));
    expect(s.store.items.size).toBe(1);
  });
});
