/**
 * The inspector's numbers (local/inspector/sources.ts `stats`), from the queue, the pipeline's counts
 * and the ledger, at an injected time: what `status` prints, as the page shows it.
 */
import { expect, it } from 'vitest';
import { Ledger } from '../../local/inspector/ledger.js';
import { localInspectorSources } from '../../local/inspector/sources.js';
import { statValues } from '../../local/inspector/views.js';
import { localPaths } from '../../local/paths.js';
import { silentLogger } from '../../lambda/core/telemetry.js';
import { eventSummary } from '../support/inspector-rows.js';

const NOW = new Date('2026-12-02T10:30:00.000Z');
const unused = {
  send: () => {
    throw new Error('the numbers read no store');
  },
};

it('counts the queue, the dead letters and their ages, today (UTC) and the signature forms at the time given', () => {
  const ledger = new Ledger();
  for (const [tag, receivedAt] of [
    ['a', '2026-12-02T00:00:00.000Z'],
    ['b', '2026-12-02T10:29:59.000Z'],
    ['c', '2026-12-01T23:59:59.999Z'],
  ] as const) {
    ledger.apply({ kind: 'stored', created: true, event: eventSummary({ eventId: tag.padEnd(32, '0'), receivedAt }) });
  }
  const sources = localInspectorSources({
    ledger,
    paths: localPaths('/nonexistent-inspector-dir'),
    dynamodb: unused,
    s3: unused,
    tableName: 'events',
    queue: {
      stats: () => ({ visible: 3, inFlight: 2, delayed: 1, deadLetters: 1 }),
      oldestSentAt: () => NOW.getTime() - 95_000,
      listDeadLetters: () => [
        {
          messageId: 'm1',
          message: { body: '{}', attributes: { eventId: 'a'.padEnd(32, '0') } as never },
          sentAt: NOW.getTime() - 2 * 3600_000 - 5 * 60_000,
          receiveCount: 5,
          movedAt: NOW.getTime(),
        },
      ],
      redriveDeadLetters: async () => 0,
      send: async () => undefined,
    },
    handlers: [],
    metrics: () => ({ Accepted: 7, Stored: 6, SignatureFormBase64: 5, SignatureFormHex: 2, SignatureInvalid: 1 }),
    fanoutRestarts: () => 1,
    flushArchive: async () => undefined,
    logger: silentLogger,
    now: () => NOW,
  });
  expect(statValues(sources.stats())).toEqual({
    'queue.visible': '3',
    'queue.inFlight': '2',
    'queue.delayed': '1',
    'queue.oldest': '1 min',
    'queue.deadLetters': '1',
    'queue.oldestDeadLetter': '2 h 5 min',
    today: '2',
    accepted: '7',
    refused: '1',
    stored: '6',
    duplicates: '0',
    archived: '0',
    handlerSucceeded: '0',
    handlerFailed: '0',
    fanoutRestarts: '1',
    signatures: '5 base64, 2 hex; 1 refused for their signature (401)',
  });
});
