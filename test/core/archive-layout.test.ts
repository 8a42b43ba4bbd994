import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS, archiveLine, FIREHOSE_EVENTS_PREFIX, parsePartition, partitionPrefix } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, parseInboxKey, spillKey } from '../../lambda/core/inbox.js';
import { fixedArchiveRecord } from '../support/archive-records.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';
import { codeSpans, docSection, tableAfter } from '../support/docs.js';

describe('partitionPrefix (UTC)', () => {
  it.each([
    ['2025-07-02T09:54:03.221Z', 'events/dt=2025-07-02/hour=09/'],
    ['2025-07-02T00:00:00.000Z', 'events/dt=2025-07-02/hour=00/'],
    ['2025-07-02T23:59:59.999Z', 'events/dt=2025-07-02/hour=23/'],
    ['2025-07-03T00:00:00.000Z', 'events/dt=2025-07-03/hour=00/'],
    ['2025-07-02T10:59:59.999Z', 'events/dt=2025-07-02/hour=10/'],
    ['2025-07-02T11:00:00.000Z', 'events/dt=2025-07-02/hour=11/'],
    ['2024-12-31T23:59:59.999Z', 'events/dt=2024-12-31/hour=23/'],
    ['2025-01-01T00:00:00.000Z', 'events/dt=2025-01-01/hour=00/'],
    ['2024-02-29T12:00:00.000Z', 'events/dt=2024-02-29/hour=12/'],
    ['2025-03-09T07:30:00.000Z', 'events/dt=2025-03-09/hour=07/'],
    // Offsets are converted: 01:30 in UTC+2 is 23:30 UTC the day before.
    ['2025-07-03T01:30:00+02:00', 'events/dt=2025-07-02/hour=23/'],
    ['2025-07-02T20:30:00-05:00', 'events/dt=2025-07-03/hour=01/'],
  ])('%s → %s', (iso, prefix) => {
    expect(partitionPrefix(new Date(iso))).toBe(prefix);
  });

  describe('whatever the process time zone', () => {
    const saved = process.env.TZ;
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it.each(['Asia/Bangkok', 'America/Los_Angeles', 'Pacific/Kiritimati'])('%s', (tz) => {
      process.env.TZ = tz;
      expect(partitionPrefix(new Date('2025-07-02T23:59:59.999Z'))).toBe('events/dt=2025-07-02/hour=23/');
      expect(partitionPrefix(new Date('2025-07-03T00:00:00.000Z'))).toBe('events/dt=2025-07-03/hour=00/');
    });
  });

  it('rejects an invalid date, naming the problem', () => {
    expect(() => partitionPrefix(new Date('not a date'))).toThrow(/invalid date/);
  });

  it('matches the layout of the Firehose prefix expression', () => {
    expect(FIREHOSE_EVENTS_PREFIX).toBe('events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/');
  });

  it('parsePartition reads back what partitionPrefix wrote', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const key = `${partitionPrefix(d)}socialplus-webhooks-1-2025-07-02-09-54-03-abc.gz`;
        const iso = d.toISOString();
        expect(parsePartition(key)).toEqual({ dt: iso.slice(0, 10), hour: iso.slice(11, 13) });
      }),
    );
  });

  it('an event files its inbox objects under the same UTC day as its archive partition (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.uint8Array({ maxLength: 32 }),
        (d, body) => {
          const { dt } = parsePartition(`${partitionPrefix(d)}x.gz`) ?? { dt: '' };
          expect(parseInboxKey(spillKey(d, eventIdOf(body)))?.day).toBe(dt);
          expect(parseInboxKey(claimCheckKey(d, eventIdOf(body)))?.day).toBe(dt);
        },
      ),
    );
  });

  it.each(['errors/x/dt=2025-07-02/file.gz', 'inbox/spill/abc', 'events/dt=2025-7-2/hour=9/x.gz', 'events/'])(
    'parsePartition(%s) → undefined',
    (key) => {
      expect(parsePartition(key)).toBeUndefined();
    },
  );
});

describe('archiveLine', () => {
  it('carries the columns in the order docs/querying.md documents (the Glue table order), flags before the payload', () => {
    const documented = tableAfter(docSection('docs/querying.md', '## The archive'), 'One JSON object per line, in this column order:');
    expect(ARCHIVE_COLUMNS).toEqual(documented.flatMap(([column = '']) => codeSpans(column)));
    expect(ARCHIVE_COLUMNS.slice(-2)).toEqual(['flags', 'payload']);
    const line = archiveLine(
      fixedArchiveRecord('{}', { actorId: 'u1', targetType: 'message', targetId: 'm1', occurredAt: '2025-07-02T09:00:00.000Z' }),
    );
    expect(Object.keys(JSON.parse(line))).toEqual([...ARCHIVE_COLUMNS]);
  });

  it('maps every field, with null for unknown entities and name', () => {
    const payload = '{"event":"x"}';
    expect(JSON.parse(archiveLine(fixedArchiveRecord(payload, { eventName: null, eventType: 'unknown', flags: ['invalid-json'] })))).toEqual({
      event_id: eventIdOf(payload),
      event_type: 'unknown',
      event_name: null,
      received_at: '2025-07-02T09:54:03.221Z',
      occurred_at: null,
      source: 'default',
      actor_id: null,
      target_type: null,
      target_id: null,
      deprecated: false,
      flags: ['invalid-json'],
      payload,
    });
  });

  it('writes deprecated and entity columns when known', () => {
    const row = JSON.parse(
      archiveLine(
        fixedArchiveRecord('{}', {
          deprecated: true,
          actorId: 'a',
          targetType: 'channel',
          targetId: 'c',
          occurredAt: '2025-07-01T00:00:00.000Z',
          source: 'eu-app',
        }),
      ),
    );
    expect(row).toMatchObject({
      deprecated: true,
      actor_id: 'a',
      target_type: 'channel',
      target_id: 'c',
      occurred_at: '2025-07-01T00:00:00.000Z',
      source: 'eu-app',
    });
  });

  it.each(SAMPLE_NAMES)('sample %s: one line ending in \\n, payload byte-exact', (name) => {
    const raw = sampleBody(name);
    const line = archiveLine(fixedArchiveRecord(raw));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const row = JSON.parse(line);
    expect(row.payload).toBe(raw);
    expect(Buffer.from(row.payload, 'utf8').equals(Buffer.from(raw, 'utf8'))).toBe(true);
    expect(eventIdOf(row.payload)).toBe(row.event_id);
  });

  it.each([
    ['newlines and tabs', '{\n\t"event": "a.b"\r\n}\n'],
    ['unicode and emoji', '{"text":"สวัสดี 👋🏽 日本語 é"}'],
    ['line and paragraph separators', '{"text":"a\u2028b\u2029c"}'],
    ['escapes inside the payload', '{"text":"quote \\" backslash \\\\ slash \\/ \\u00e9"}'],
    ['not JSON', 'hello\nworld'],
  ])('payload with %s survives unchanged on one line', (_label, payload) => {
    const line = archiveLine(fixedArchiveRecord(payload));
    expect(line.split('\n')).toHaveLength(2);
    expect(JSON.parse(line).payload).toBe(payload);
  });

  it('round-trips through JSON.parse with the payload unchanged (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), fc.string({ maxLength: 40 }), (payload, source) => {
        const line = archiveLine(fixedArchiveRecord(payload, { source }));
        expect(line.indexOf('\n')).toBe(line.length - 1);
        const row = JSON.parse(line);
        expect(row.payload).toBe(payload);
        expect(row.source).toBe(source);
        expect(Object.keys(row)).toEqual([...ARCHIVE_COLUMNS]);
      }),
    );
  });
});
