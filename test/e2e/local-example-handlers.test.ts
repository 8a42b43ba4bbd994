/**
 * Local mode builds its handlers like the fan-out Lambda does: HANDLERS_CONFIG switches example
 * handlers on, with their state in dynalite; a bad value fails the start naming the variable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { counterKeys } from '../../lambda/fanout/handlers/daily-counters.js';
import { localDynamoDbClient } from '../../local/emulators.js';
import { LOCAL_HANDLER_STATE_TABLE_NAME } from '../../local/paths.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { sampleBody } from '../support/samples.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const SECRET = 'local-example-handlers-secret';
let dir: string | undefined;
let pipeline: LocalPipeline | undefined;

afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function start(handlersConfig: string): Promise<LocalPipeline> {
  dir = await mkdtemp(join(tmpdir(), 'e2e-examples-'));
  return startLocalPipeline({
    dir,
    port: 0,
    secret: SECRET,
    env: { HANDLERS_CONFIG: handlersConfig },
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200 },
    stream: { bufferIntervalMs: 100 },
  });
}

describe('local mode with example handlers', () => {
  it('HANDLERS_CONFIG switches daily counters on; an accepted event is counted once in dynalite', async () => {
    pipeline = await start(JSON.stringify({ dailyCounters: { enabled: true } }));
    const body = sampleBody('message.didCreate');
    for (let i = 0; i < 2; i++) {
      const res = await postSignedWebhook(pipeline.url, body, SECRET);
      expect(res.status).toBe(200);
    }
    await pipeline.settle();
    const counters = new DynamoDbDailyCounterStore(
      localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: pipeline.credentials }),
      LOCAL_HANDLER_STATE_TABLE_NAME,
    );
    // The counters' day is the event's day of arrival, as the pipeline recorded it (not today's
    // date when the test reads, which differs across 00:00 UTC).
    const stored = await pipeline.store.get(eventIdOf(body));
    expect(stored?.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const counts = await counters.read(new Date(stored?.receivedAt ?? '').toISOString().slice(0, 10));
    // The same delivery twice is one event: every counter it touches (its type, its channel) says 1.
    const keys = counterKeys(stored?.eventType ?? '', JSON.parse(body));
    expect(keys.length).toBe(2);
    expect(counts).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
  });

  it('a bad HANDLERS_CONFIG fails the start with a message naming the variable', async () => {
    await expect(start('{"dailyCounters":')).rejects.toThrow(/HANDLERS_CONFIG/);
  });
});
