/**
 * `socialplus-webhooks dev` (what `npm start` runs) lists the fan-out's handlers in its banner, each
 * with the event patterns it takes: the registered ones (read from `lambda/fanout/handlers/index.ts`,
 * never spelled out here) and the example handlers the configuration switches on.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { handlerLines } from '../../cli/commands/dev.js';
import { parseHandlersConfig } from '../../lambda/fanout/handlers/config.js';
import { exampleHandlers, handlers as registered } from '../../lambda/fanout/handlers/index.js';
import { spawnLocalMode } from '../e2e/support/local-state.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'socialplus-webhooks.mjs');

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The banner's handler lines: from `handlers` to the line before `dynamodb`. */
function bannerHandlers(out: string): { name: string; events: string }[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('handlers  '));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('          '));
  return lines.slice(start, end).map((l) => {
    const [, name, events] = /^(?:handlers|\s{8}) {2}(\S+)\s+(.+)$/.exec(l) ?? [];
    return { name: name ?? `unparsed: ${l}`, events: events ?? '' };
  });
}

describe('socialplus-webhooks dev: the banner lists the handlers', () => {
  it('the registered handlers, then the examples the configuration turns on, each with its events', async () => {
    const config = {
      socialPlus: { dryRun: true },
      keywordFilter: { enabled: true, words: ['crypto'], targets: ['posts'] },
      eventBridge: { enabled: true, events: ['message.*', 'post.didFlag'] },
    };
    const examples = exampleHandlers(parseHandlersConfig(config), { publisher: { publish: async () => undefined } });
    const dir = await mkdtemp(join(tmpdir(), 'dev-banner-'));
    dirs.push(dir);
    const dev = await spawnLocalMode([BIN, 'dev', '--port', '0'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SOCIALPLUS_LOCAL_DIR: dir,
        SOCIALPLUS_WEBHOOK_SECRET: 'banner-test',
        HANDLERS_CONFIG: JSON.stringify(config),
        LOG_LEVEL: 'WARN',
      },
      track: children,
      label: 'dev',
    });
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);

    const expected = [...registered, ...examples].map((h) => ({ name: h.name, events: h.events.join(', ') }));
    expect(examples.length).toBeGreaterThan(0);
    expect(bannerHandlers(dev.output())).toEqual(expected);
  });

  it('says where to register one when there is none', () => {
    expect(handlerLines([])).toEqual(['handlers  none (register yours in lambda/fanout/handlers/index.ts)']);
    expect(
      handlerLines([
        { name: 'a', events: ['*'] },
        { name: 'longer', events: ['message.didFlag', 'post.*'] },
      ]),
    ).toEqual(['handlers  a       *', '          longer  message.didFlag, post.*']);
  });
});
