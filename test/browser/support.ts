/**
 * What the browser suite (`npm run test:browser`) shares: Chromium from Debian's `chromium` package
 * driven by playwright-core (no browser download), the CLI run as a user runs it, and the local
 * mode `npm start` runs, started as a process whose banner gives the inspector's link.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const run = promisify(execFile);

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/socialplus-webhooks.mjs', import.meta.url));
/** axe-core's browser build, which the suite injects to check the pages' accessibility. */
export const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));
/** Where the suite saves its screenshots, which the README shows. */
export const SCREENSHOTS = fileURLToPath(new URL('../../docs/images/', import.meta.url));

/** `CHROMIUM_PATH`, else Debian's. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's package (as root: apt-get update && apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium binary`,
    );
  }
  return path;
}

/** Headless Chromium, with nothing of its own reaching out to the network (this machine's network is closed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Runs the CLI (`npx socialplus-webhooks …`) against local mode in `dir`; resolves with its stdout, rejects with its stderr. */
export async function cli(dir: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, SOCIALPLUS_LOCAL_DIR: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`socialplus-webhooks ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** The event id `send` printed (`… event <32 hex>`). */
export function sentEventId(stdout: string): string {
  const m = /\bevent ([0-9a-f]{32})\b/.exec(stdout);
  if (!m) throw new Error(`send printed no event id:\n${stdout}`);
  return m[1] as string;
}

/** `socialplus-webhooks dev` as `npm start` runs it, until {@link stopDev}. */
export interface DevProcess {
  readonly child: ChildProcess;
  /** The inspector's link from the banner. */
  readonly inspectorUrl: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly output: () => string;
}

/** Starts `socialplus-webhooks dev --port 0 --dir <dir>` and reads its banner. */
export async function startDev(dir: string, env: NodeJS.ProcessEnv = {}): Promise<DevProcess> {
  const child = spawn(process.execPath, [BIN, 'dev', '--port', '0', '--dir', dir], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const banner = await new Promise<{ url: string; inspectorUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev printed no inspector link within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const url = /^listening on (\S+)$/m.exec(out)?.[1];
      const inspectorUrl = /^inspector (\S+)$/m.exec(out)?.[1];
      if (url && inspectorUrl) {
        clearTimeout(timer);
        resolve({ url, inspectorUrl });
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { child, ...banner, output: () => out };
}

/** Stops `dev` as Ctrl+C does and waits for it to exit. */
export async function stopDev(dev: DevProcess | undefined): Promise<void> {
  if (!dev || dev.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => dev.child.on('exit', () => resolve()));
  dev.child.kill('SIGINT');
  await exited;
}

/** Saves a screenshot of the page as docs/images/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  const path = `${SCREENSHOTS}${name}.png`;
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage, animations: 'disabled' });
}
