/**
 * Measures how fast local mode acknowledges webhooks: starts `socialplus-webhooks dev` as a child
 * process in a temporary folder, posts signed events from concurrent senders, and prints events/s
 * and the ack latency percentiles. Not a test: figures depend on the machine.
 *
 *   npx tsx local/scripts/measure-ack.ts [--events 5000] [--concurrency 32]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { events: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } } });
const events = Number(values.events);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(events) || events <= 0) throw new Error(`--events must be a positive integer, got '${values.events}'`);
if (!Number.isInteger(concurrency) || concurrency <= 0) throw new Error(`--concurrency must be a positive integer, got '${values.concurrency}'`);

const secret = 'measure-ack-secret';
const dir = await mkdtemp(join(tmpdir(), 'measure-ack-'));
const child = spawn(process.execPath, [join(here, '..', '..', 'bin', 'socialplus-webhooks.mjs'), 'dev'], {
  cwd: dir,
  env: { ...process.env, PORT: '0', SOCIALPLUS_LOCAL_DIR: dir, SOCIALPLUS_WEBHOOK_SECRET: secret, LOG_LEVEL: 'WARN' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
const url = await new Promise<string>((resolve, reject) => {
  const timer = setInterval(() => {
    const m = /^listening on (\S+)$/m.exec(out);
    if (m) {
      clearInterval(timer);
      resolve(m[1] as string);
    }
  }, 20);
  child.once('exit', (code) => reject(new Error(`dev exited with ${code}:\n${out}`)));
});

const template = readFileSync(join(here, '..', '..', 'fixtures', 'samples', 'message.didCreate.json'), 'utf8')
  .trimEnd()
  .replace(/}$/, '');
const bodies = Array.from({ length: events }, (_, i) => `${template},"measure":${i}}`);
const signatures = bodies.map((b) => sign(b, secret));
const latencies: number[] = [];
const statuses = new Map<number, number>();

// Warm up the connection pool and the JIT, outside the measurement.
for (let i = 0; i < 50; i++) {
  const body = `${template},"warmup":${i}}`;
  await (await fetch(`${url}/webhook`, { method: 'POST', body, headers: { [SIGNATURE_HEADER]: sign(body, secret) } })).arrayBuffer();
}

let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const i = next++;
      const t0 = performance.now();
      const res = await fetch(`${url}/webhook`, {
        method: 'POST',
        body: bodies[i],
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatures[i] as string },
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;

latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number).toFixed(1);
process.stdout.write(`${events} events, ${concurrency} concurrent senders, ${seconds.toFixed(2)} s\n`);
process.stdout.write(
  `acknowledged: ${(events / seconds).toFixed(0)} events/s; ack latency p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms\n`,
);
process.stdout.write(`statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}\n`);

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await rm(dir, { recursive: true, force: true });
