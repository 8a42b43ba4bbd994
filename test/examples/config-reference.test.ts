/**
 * One configuration: local mode reads the example handlers' configuration from `cdk.json`'s
 * context key `handlers`, as `cdk deploy` does (`HANDLERS_CONFIG` overrides it), and every example
 * of docs/extending.md's "Configuration reference" starts local mode as written: from cdk.json
 * (in-process and through `dev`, the command `npm start` runs) and from `HANDLERS_CONFIG`, with no
 * admin token set.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readEvent } from '../../cli/commands/events.js';
import { ConfigurationError } from '../../lambda/common/env.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from '../../local/pipeline.js';
import { spawnLocalMode } from '../e2e/support/local-state.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'socialplus-webhooks.mjs');
const SECRET = 'config-reference-secret';

/** The ```json blocks of the guide's "Configuration reference" section, as written. */
function referenceExamples(): string[] {
  const guide = readFileSync(join(ROOT, 'docs', 'extending.md'), 'utf8');
  const start = guide.indexOf('\n## Configuration reference\n');
  if (start < 0) throw new Error('docs/extending.md has no "## Configuration reference" section');
  const next = guide.indexOf('\n## ', start + 1);
  const section = guide.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}
const EXAMPLES = referenceExamples();

const dirs: string[] = [];
const pipelines: LocalPipeline[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const p of pipelines.splice(0)) await p.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A project folder whose cdk.json has `context`, and a state folder for local mode. */
async function project(context: Record<string, unknown> | undefined): Promise<{ projectDir: string; stateDir: string }> {
  const projectDir = await mkdtemp(join(tmpdir(), 'config-reference-'));
  dirs.push(projectDir);
  if (context !== undefined) await writeFile(join(projectDir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts', context }, null, 2));
  return { projectDir, stateDir: join(projectDir, '.local') };
}

async function start(opts: Omit<LocalPipelineOptions, 'port' | 'secret'>): Promise<LocalPipeline> {
  const pipeline = await startLocalPipeline({
    port: 0,
    secret: SECRET,
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 50, maxReceiveCount: 2 },
    ...opts,
  });
  pipelines.push(pipeline);
  return pipeline;
}

describe('docs/extending.md, Configuration reference', () => {
  it('has examples', () => {
    expect(EXAMPLES.length).toBeGreaterThan(0);
    for (const e of EXAMPLES) expect(() => JSON.parse(e) as unknown).not.toThrow();
  });

  it.each(EXAMPLES.map((e, i) => [i + 1, e] as const))(
    'example %i starts local mode from cdk.json as written, with no admin token',
    async (_n, example) => {
      const { projectDir, stateDir } = await project({ handlers: JSON.parse(example) as unknown });
      const pipeline = await start({ dir: stateDir, projectDir, env: {} });
      expect(pipeline.handlersConfig).toEqual({ from: 'cdk.json', file: join(projectDir, 'cdk.json') });
      expect((await fetch(`${pipeline.url}/healthz`)).status).toBe(200);
    },
  );

  it.each(EXAMPLES.map((e, i) => [i + 1, e] as const))(
    'example %i starts local mode from HANDLERS_CONFIG as written, with no admin token',
    async (_n, example) => {
      const { projectDir, stateDir } = await project(undefined);
      const pipeline = await start({ dir: stateDir, projectDir, env: { HANDLERS_CONFIG: example } });
      expect(pipeline.handlersConfig).toEqual({ from: 'HANDLERS_CONFIG' });
    },
  );

  it.each(EXAMPLES.map((e, i) => [i + 1, e] as const))(
    "example %i starts npm start's dev from cdk.json, and its banner says where the configuration came from",
    async (_n, example) => {
      const { projectDir, stateDir } = await project({ handlers: JSON.parse(example) as unknown });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: '0',
        SOCIALPLUS_LOCAL_DIR: stateDir,
        SOCIALPLUS_WEBHOOK_SECRET: SECRET,
        LOG_LEVEL: 'WARN',
      };
      for (const name of ['HANDLERS_CONFIG', 'SOCIALPLUS_ADMIN_TOKEN', 'SOCIALPLUS_API_SECRET_ARN', 'HANDLER_STATE_TABLE_NAME']) delete env[name];
      const dev = await spawnLocalMode([BIN, 'dev'], { cwd: projectDir, env, track: children, label: 'dev' });
      expect(dev.output()).toMatch(
        /^config {4}handlers from cdk\.json \(context key "handlers", as cdk deploy reads it; HANDLERS_CONFIG overrides\)$/m,
      );
      dev.child.kill('SIGINT');
      expect(await dev.exited).toBe(0);
    },
  );
});

describe('local mode reads handlers from cdk.json', () => {
  it("completes them as cdk deploy does: socialPlus.region from the sources' shared region", async () => {
    // Without the region deploy fills in, a keyword filter (which calls the API) is refused.
    const { projectDir, stateDir } = await project({
      sources: [{ name: 'default', region: 'eu' }],
      handlers: { keywordFilter: { enabled: true, words: ['free crypto'] } },
    });
    const pipeline = await start({ dir: stateDir, projectDir, env: {} });
    expect(pipeline.handlersConfig.from).toBe('cdk.json');
  });

  it('HANDLERS_CONFIG overrides it; without either every example handler is off', async () => {
    const { projectDir, stateDir } = await project({ handlers: { dailyCounters: { enabled: 'yes' } } });
    const overridden = await start({ dir: stateDir, projectDir, env: { HANDLERS_CONFIG: '{}' } });
    expect(overridden.handlersConfig).toEqual({ from: 'HANDLERS_CONFIG' });
    await overridden.close();

    const bare = await project({ stackName: 'Other' });
    const none = await start({ dir: bare.stateDir, projectDir: bare.projectDir, env: {} });
    expect(none.handlersConfig).toEqual({ from: 'none' });
  });

  it('a bad value fails the start naming cdk.json and the key, as deploy would', async () => {
    const { projectDir, stateDir } = await project({ handlers: { dailyCounters: { enabled: 'yes' } } });
    const err = await start({ dir: stateDir, projectDir, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain(
      `${join(projectDir, 'cdk.json')} (read by local mode because HANDLERS_CONFIG is not set): its context is not valid:`,
    );
    expect((err as Error).message).toMatch(/handlers.*dailyCounters\.enabled/);
  });

  it('without an admin token a handler that calls Social Plus runs and fails, naming SOCIALPLUS_ADMIN_TOKEN', async () => {
    const { projectDir, stateDir } = await project({
      handlers: { socialPlus: { region: 'eu' }, keywordFilter: { enabled: true, words: ['free crypto'] } },
    });
    const pipeline = await start({ dir: stateDir, projectDir, env: {} });
    const body = readFileSync(join(ROOT, 'fixtures', 'samples', 'message.didCreate.json'), 'utf8').replace(
      'Has anyone tried the new checkout flow?',
      'free crypto here',
    );
    const res = await postSignedWebhook(pipeline.url, body, SECRET);
    expect(res.status).toBe(200);
    await pipeline.settle();
    const event = await readEvent(pipeline.dynamodb, pipeline.tableName, eventIdOf(body));
    const filter = event?.handlers.find((h) => h.handler === 'keyword-filter');
    expect(filter).toMatchObject({ outcome: 'failed', attempts: 2 });
    expect(filter?.error).toContain('no admin token in local mode: set SOCIALPLUS_ADMIN_TOKEN before npm start');
  });
});
