/** The pure rules of `replay` (time range, partitions, what each archive line becomes) and the progress bar. */
import { describe, expect, it } from 'vitest';
import { archiveLine, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey } from '../../lambda/core/inbox.js';
import { CliError } from '../../cli/errors.js';
import { createProgress, render } from '../../cli/progress.js';
import {
  checkPatterns,
  claimCheckFor,
  dayPrefixes,
  decideLine,
  parseForce,
  parseTimeRange,
  partitionOf,
  partitionsFor,
  replayRequestId,
  type ReplayRules,
} from '../../cli/replay-plan.js';

const BODY = '{"event":"message.didFlag","data":{"message":{"messageId":"m1"}}}';

function line(overrides: Partial<ArchiveRecord> = {}, body = BODY): string {
  return archiveLine({
    eventId: eventIdOf(body),
    eventType: 'message.didFlag',
    eventName: 'message.didFlag',
    receivedAt: '2025-07-02T10:15:00.000Z',
    source: 'default',
    deprecated: false,
    flags: [],
    payload: body,
    ...overrides,
  }).trimEnd();
}

function rules(overrides: Partial<ReplayRules> = {}): ReplayRules {
  return { range: parseTimeRange('2025-07-02', '2025-07-02'), patterns: [], requestId: 'replay-test', force: [], seen: new Set(), ...overrides };
}

describe('parseTimeRange', () => {
  it.each([
    ['2025-07-02', '2025-07-02', '2025-07-02T00:00:00.000Z', '2025-07-03T00:00:00.000Z'],
    ['2025-07-02T10:30', '2025-07-02T11:00:00Z', '2025-07-02T10:30:00.000Z', '2025-07-02T11:00:00.000Z'],
    ['2025-07-02T10:30:00+02:00', '2025-07-03', '2025-07-02T08:30:00.000Z', '2025-07-04T00:00:00.000Z'],
  ])('reads --from %s --to %s', (from, to, fromIso, toIso) => {
    const r = parseTimeRange(from, to);
    expect([r.from.toISOString(), r.to.toISOString()]).toEqual([fromIso, toIso]);
  });

  it.each([
    ['yesterday', '2025-07-02', /--from 'yesterday' is not a day or a time: use YYYY-MM-DD/],
    ['2025-02-30', '2025-03-01', /--from '2025-02-30' is not a real day/],
    ['2025-07-02', '2025-07-02T25:00', /--to '2025-07-02T25:00' is not a day or a time/],
    ['2025-07-03', '2025-07-02', /--from \(2025-07-03T00:00:00.000Z\) must be before --to/],
  ])('refuses --from %s --to %s, naming the problem', (from, to, message) => {
    expect(() => parseTimeRange(from, to)).toThrow(CliError);
    expect(() => parseTimeRange(from, to)).toThrow(message);
  });
});

describe('--force names the handlers it runs again', () => {
  it('reads names comma-separated or repeated, once each', () => {
    expect(parseForce(undefined)).toEqual([]);
    expect(parseForce(['auto-moderation'])).toEqual(['auto-moderation']);
    expect(parseForce(['auto-moderation,daily-counters', 'auto-moderation'])).toEqual(['auto-moderation', 'daily-counters']);
  });

  it('refuses a plain --force, saying how to name the handlers', () => {
    expect(() => parseForce(true)).toThrow(CliError);
    expect(() => parseForce(true)).toThrow(
      /--force without handler names: name the handlers to run again: --force <handler>\[,<handler>…\] \(or repeat --force\), e\.g\. --force auto-moderation/,
    );
  });

  it('refuses something that is not a handler name', () => {
    expect(() => parseForce(['Auto Moderation'])).toThrow(/--force: 'Auto Moderation' is not a handler name/);
    expect(() => parseForce([','])).toThrow(/--force names no handler/);
  });
});

describe('--event patterns', () => {
  it('accepts catalog names, families, * and unknown', () => {
    expect(() => checkPatterns(['message.didFlag', 'message.*', '*', 'unknown', 'v3.post.didCreate'])).not.toThrow();
  });

  it('takes an event id as is, and selects that one event', () => {
    expect(() => checkPatterns([eventIdOf(BODY)])).not.toThrow();
    const r = rules({ patterns: [eventIdOf(BODY)] });
    expect(decideLine(line(), r).kind).toBe('inline');
    const other = '{"event":"message.didFlag","data":{"message":{"messageId":"m2"}}}';
    expect(decideLine(line({ eventId: eventIdOf(other) }, other), r)).toMatchObject({ kind: 'skip', reason: 'filtered' });
  });

  it('refuses a pattern that matches no catalog name, with "did you mean"', () => {
    expect(() => checkPatterns(['mesage.*'])).toThrow(CliError);
    expect(() => checkPatterns(['mesage.*'])).toThrow("--event: 'mesage.*' matches no event family of the catalog; did you mean 'message.*'?");
    expect(() => checkPatterns(['message.didCreat'])).toThrow(
      /--event: 'message.didCreat' is not an event name of the catalog; did you mean 'message.didCreate'\?/,
    );
  });
});

describe('partitions', () => {
  it('covers each hour of the range and the hour after', () => {
    const p = partitionsFor(parseTimeRange('2025-07-02T22:30:00Z', '2025-07-02T23:10:00Z'));
    expect([...p]).toEqual(['2025-07-02/22', '2025-07-02/23', '2025-07-03/00']);
    expect(dayPrefixes(p)).toEqual(['events/dt=2025-07-02/', 'events/dt=2025-07-03/']);
    expect(partitionsFor(parseTimeRange('2025-07-02', '2025-07-02')).size).toBe(25);
  });

  it('reads the partition of an object key or path', () => {
    expect(partitionOf('events/dt=2025-07-02/hour=09/stream-1.gz')).toBe('2025-07-02/09');
    expect(partitionOf('/tmp/x/s3/bucket/events/dt=2025-07-02/hour=09/a.gz._S3rver_object')).toBe('2025-07-02/09');
    expect(partitionOf('inbox/large/2025-07-02/abc')).toBeUndefined();
  });
});

describe('decideLine', () => {
  it("replays a line as the message the receiver sent, with the replay's request id", () => {
    const d = decideLine(line(), rules());
    expect(d).toEqual({
      kind: 'inline',
      event: { eventId: eventIdOf(BODY), eventType: 'message.didFlag', receivedAt: '2025-07-02T10:15:00.000Z', source: 'default' },
      message: {
        body: BODY,
        attributes: {
          eventId: eventIdOf(BODY),
          eventType: 'message.didFlag',
          receivedAt: '2025-07-02T10:15:00.000Z',
          source: 'default',
          requestId: 'replay-test',
        },
      },
    });
  });

  it('marks every message with the handlers --force names', () => {
    const d = decideLine(line(), rules({ force: ['auto-moderation', 'daily-counters'] }));
    expect(d.kind === 'inline' && d.message.attributes).toMatchObject({ replayForce: 'auto-moderation,daily-counters' });
  });

  it('skips a second line of the same event, lines outside the range, and events not matching --event', () => {
    const r = rules({ patterns: ['message.*'] });
    expect(decideLine(line(), r).kind).toBe('inline');
    expect(decideLine(line(), r)).toMatchObject({ kind: 'skip', reason: 'duplicate' });
    expect(decideLine(line({ receivedAt: '2025-07-03T00:00:00.000Z' }, '{"a":1}'), r)).toMatchObject({ kind: 'skip', reason: 'out-of-range' });
    const post = '{"event":"v3.post.didCreate","data":{}}';
    expect(decideLine(line({ eventType: 'post.didCreate', eventName: 'v3.post.didCreate' }, post), r)).toMatchObject({
      kind: 'skip',
      reason: 'filtered',
    });
  });

  it('sends a non-UTF-8 body base64-encoded, as the receiver did', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x41]);
    const text = line({ eventId: eventIdOf(bytes), flags: ['invalid-json', 'body-base64'], payload: bytes.toString('base64') });
    const d = decideLine(text, rules());
    expect(d.kind === 'inline' && d.message).toMatchObject({ body: bytes.toString('base64'), attributes: { bodyEncoding: 'base64' } });
  });

  it('sends a claim check for a body kept in S3, keeping --force', () => {
    const id = eventIdOf('a body too large for an archive line');
    const key = claimCheckKey(new Date('2025-07-02T10:15:00Z'), id);
    const d = decideLine(line({ eventId: id, flags: ['payload-in-s3'], payload: key }), rules({ force: ['auto-moderation'] }));
    expect(d).toMatchObject({ kind: 'claim-check', key });
    if (d.kind !== 'claim-check') throw new Error('expected a claim check');
    expect(claimCheckFor(d, 1_500_000)).toEqual({
      body: JSON.stringify({ claimCheckKey: key, bodyBytes: 1_500_000 }),
      attributes: {
        eventId: id,
        eventType: 'message.didFlag',
        receivedAt: '2025-07-02T10:15:00.000Z',
        source: 'default',
        requestId: 'replay-test',
        replayForce: 'auto-moderation',
        claimCheckKey: key,
      },
    });
  });

  it('skips undecodable records and damaged lines', () => {
    expect(decideLine(line({ flags: ['undecodable', 'pointer-malformed'] }), rules())).toMatchObject({ kind: 'skip', reason: 'undecodable' });
    expect(decideLine('{"event_id":', rules())).toEqual({ kind: 'skip', reason: 'corrupt' });
    expect(decideLine(line({ payload: `${BODY} ` }), rules())).toMatchObject({ kind: 'skip', reason: 'corrupt' });
    expect(decideLine(line({ flags: ['payload-in-s3'], payload: 'inbox/spill/2025-07-02/x' }), rules())).toMatchObject({
      kind: 'skip',
      reason: 'corrupt',
    });
  });

  it('names a replay run by its time', () => {
    expect(replayRequestId(new Date('2025-07-02T10:15:30.123Z'), 'ab12cd34')).toBe('replay-20250702T101530Z-ab12cd34');
  });
});

describe('progress', () => {
  it('draws a bar only on a terminal, and clears it', () => {
    const written: string[] = [];
    let t = 0;
    const tty = createProgress('replaying', { stream: { isTTY: true, columns: 80, write: (s) => written.push(s) }, now: () => t });
    tty.update(1, 4);
    tty.update(2, 4); // within the redraw interval: skipped
    t = 500;
    tty.update(4, 4);
    tty.finish();
    expect(written).toEqual([`\r\x1b[K${render('replaying', 1, 4)}`, `\r\x1b[K${render('replaying', 4, 4)}`, '\r\x1b[K']);
    expect(render('replaying', 1, 4)).toBe('replaying [######------------------]  25% 1/4');
    expect(render('moved', 7)).toBe('moved 7');

    const piped: string[] = [];
    const quiet = createProgress('replaying', { stream: { isTTY: false, write: (s) => piped.push(s) } });
    quiet.update(1, 2);
    quiet.finish();
    expect(piped).toEqual([]);
  });
});
