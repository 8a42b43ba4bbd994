/**
 * Local mode end to end: real HTTP requests into `startLocalPipeline`, through the same receiver
 * and fan-out code as AWS, into dynalite and the s3rver archive, read back with the CLI's `query`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { runCli } from '../cli/run-cli.js';
import { startRecordingPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

const SECRET = 'e2e-local-secret';
let dir: string;
let pipeline: LocalPipeline;
/** Every handler invocation, as `eventId`. */
const handled: HandlerContext[] = [];
/** Every event accepted (200 and not legacy) in this file, by event id → sample name or label. */
const accepted = new Map<string, string>();

beforeAll(async () => {
  ({ dir, pipeline } = await startRecordingPipeline('e2e-local-', { secret: SECRET, handlerName: 'e2e-recorder', handled }));
});

afterAll(() => stopTempPipeline(pipeline, dir));

async function post(body: string | Buffer, headers: Record<string, string>, path = '/webhook') {
  const res = await fetch(`${pipeline.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

const signed = (body: string | Buffer, secret = SECRET) => ({ [SIGNATURE_HEADER]: sign(body, secret) });

/** A distinct body: the sample with one harmless top-level field added. */
function variant(name: string, label: string): string {
  return `${sampleBody(name).trimEnd().replace(/}$/, '')},"e2e":"${label}"}`;
}

describe('local pipeline over HTTP', () => {
  it('answers 200 {} to every signed sample and stores and dispatches each', async () => {
    for (const name of SAMPLE_NAMES) {
      const body = sampleBody(name);
      const res = await post(body, signed(body));
      expect(res, name).toEqual({ status: 200, contentType: 'application/json', body: '{}' });
      accepted.set(eventIdOf(Buffer.from(body)), name);
    }
    await pipeline.settle();
    for (const [eventId, name] of accepted) {
      const item = await pipeline.store.get(eventId);
      expect(item, name).toBeDefined();
      expect(item?.source).toBe('default');
      expect(item?.payload).toBe(sampleBody(name));
    }
    const dispatched = new Set(handled.map((c) => c.eventId));
    // Every sample with a JSON envelope reaches the catch-all handler.
    expect(dispatched.has(eventIdOf(Buffer.from(sampleBody('message.didCreate'))))).toBe(true);
    expect(dispatched.has(eventIdOf(Buffer.from(sampleBody('v3.post.didCreate'))))).toBe(true);
  });

  it('acknowledges a legacy x-eko-signature-only delivery and never stores it', async () => {
    const body = variant('message.didCreate', 'legacy');
    const res = await post(body, { [LEGACY_SIGNATURE_HEADER]: sign(body, SECRET) });
    expect(res).toEqual({ status: 200, contentType: 'application/json', body: '{}' });
    await pipeline.settle();
    expect(await pipeline.store.get(eventIdOf(Buffer.from(body)))).toBeUndefined();
    expect(pipeline.metrics().LegacyDropped).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['no signature', () => ({}), { message: 'missing x-amity-signature' }],
    ['a signature over other bytes', () => signed('other bytes'), { message: 'invalid signature' }],
    ['a signature made with another secret', (body: string) => signed(body, 'not-the-secret'), { message: 'invalid signature' }],
    ['a malformed signature', () => ({ [SIGNATURE_HEADER]: 'not base64!' }), { message: 'invalid signature' }],
  ])('answers 401 to a delivery with %s and never stores it', async (label, headersFor: (body: string) => Record<string, string>, answer) => {
    const body = variant('message.didFlag', `rejected-${label}`);
    const res = await post(body, headersFor(body));
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual(answer);
    await pipeline.settle();
    expect(await pipeline.store.get(eventIdOf(Buffer.from(body)))).toBeUndefined();
  });

  it('answers 400 to an empty body', async () => {
    const res = await post('', signed(''));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ message: 'empty body' });
  });

  it('stores a duplicate delivery once and runs its handlers once', async () => {
    const body = variant('user.didBan.inferred', 'duplicate');
    const eventId = eventIdOf(Buffer.from(body));
    const before = pipeline.metrics().Duplicate ?? 0;
    // Three deliveries in separate batches (copies inside one batch are merged before the store).
    for (let i = 0; i < 3; i++) {
      expect((await post(body, signed(body))).status).toBe(200);
      await pipeline.settle();
    }
    accepted.set(eventId, 'duplicate');
    expect(await pipeline.store.get(eventId)).toMatchObject({ eventId, source: 'default', handlers: { 'e2e-recorder': true } });
    expect(handled.filter((c) => c.eventId === eventId)).toHaveLength(1);
    expect((pipeline.metrics().Duplicate ?? 0) - before).toBe(2);
  });

  it('takes a configured source from the path and answers 404 to an unknown one', async () => {
    const body = variant('v3.comment.didCreate', 'partner');
    expect((await post(body, signed(body), '/webhook/partner')).status).toBe(200);
    accepted.set(eventIdOf(Buffer.from(body)), 'partner');
    const unknown = await post(body, signed(body), '/webhook/nobody');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).message).toMatch(/nobody/);
    await pipeline.settle();
    expect((await pipeline.store.get(eventIdOf(Buffer.from(body))))?.source).toBe('partner');
  });

  it('keeps a verified body that is not UTF-8 byte for byte (its id is the hash of the raw bytes)', async () => {
    const body = Buffer.concat([Buffer.from('{"event":"message.didCreate","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect((await post(body, signed(body))).status).toBe(200);
    await pipeline.settle();
    const item = await pipeline.store.get(eventIdOf(body));
    expect(item).toBeDefined();
    expect(item?.flags.length).toBeGreaterThan(0);
  });

  it('reports healthy', async () => {
    const res = await fetch(`${pipeline.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('archives every accepted event, found with the CLI query over the local archive', async () => {
    await pipeline.settle();
    const run = await runCli([
      'query',
      'select event_id, event_type, source, received_at, dt, hour from events order by received_at',
      '--json',
      '--dir',
      dir,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<Record<string, string>>;
    const ids = new Set(rows.map((r) => r.event_id));
    for (const [eventId, label] of accepted) expect(ids.has(eventId), label).toBe(true);
    // The duplicate is archived at least once (at-least-once archive) and stored once.
    for (const r of rows) {
      expect(r.dt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.hour).toMatch(/^\d{2}$/);
    }
    const byType = await runCli(['query', "select count(distinct event_id) as n from events where source = 'partner'", '--json', '--dir', dir]);
    expect(JSON.parse(byType.stdout)).toEqual([{ n: 1 }]);
  });
});
