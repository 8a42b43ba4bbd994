/**
 * The parts of the local-load benchmark (bench/local-load.ts) that are not about local mode: the
 * load generator run in a child process, the bare server that gives the floor, latency summaries,
 * and this process's event loop delay and CPU.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadConfig, LoadReport } from './load-generator.js';
import { percentile } from './measure.js';
import { errorMessage } from '../../lambda/core/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const run = promisify(execFile);

/** Runs the generator in a child process against `url`; resolves with its report. */
export async function generate(url: string, config: Omit<LoadConfig, 'url' | 'out'>, dir: string, name: string): Promise<LoadReport> {
  const out = join(dir, `${name}.json`);
  const full: LoadConfig = { ...config, url, out };
  try {
    await run(process.execPath, ['--import', 'tsx', GENERATOR, JSON.stringify(full)], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    throw new Error(`the load generator failed (${name}): ${(err as { stderr?: string }).stderr?.slice(0, 1000) || errorMessage(err)}`, {
      cause: err,
    });
  }
  return JSON.parse(await readFile(out, 'utf8')) as LoadReport;
}

export const summarize = (values: readonly number[]): LatencySummary => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  max: Math.max(...values),
});

export const okLatencies = (r: LoadReport) => r.latenciesMs.filter((v) => v > 0);

/** A server that reads each body and answers `{}` at once: the floor of the ack path. */
export async function startFloorServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Watches this process from now until `stop()`: event loop delay and CPU time. */
export function usage(): { stop(): void; eventLoopDelay(): LatencySummary; cores(): number } {
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let stopped: { cpuMicros: number; wallMs: number } | undefined;
  return {
    stop() {
      if (stopped) return;
      const used = process.cpuUsage(cpu);
      stopped = { cpuMicros: used.user + used.system, wallMs: performance.now() - started };
      eld.disable();
    },
    eventLoopDelay: () => ({ p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 }),
    cores: () => (stopped ? stopped.cpuMicros / 1000 / stopped.wallMs : 0),
  };
}
