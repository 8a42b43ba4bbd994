/**
 * The Lambda bundles exactly as the stack builds them, for the cold-start benchmark:
 * {@link synthStackBundles} synthesizes a small app holding the stack's own `ReceiverFunction` and
 * `FanoutFunction` constructs (which bundle through `WebhooksFunction`, lib/constructs/node-function.ts:
 * esbuild's JS API with code splitting, `esbuildBuildOptions`) against imported resources, and
 * returns each asset folder with the environment its template sets (`NODE_OPTIONS` only where the
 * construct sets it, `LOG_LEVEL`, the receiver's deadline, …). {@link bundleSize} measures what a
 * cold start loads of a bundle and what it ships.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { EventArchive } from '../../lib/constructs/archive.js';
import { EventTable } from '../../lib/constructs/event-store.js';
import { FanoutFunction } from '../../lib/constructs/fanout-function.js';
import { Inbox } from '../../lib/constructs/inbox.js';
import { WebhookQueue } from '../../lib/constructs/queue.js';
import { ReceiverFunction } from '../../lib/constructs/receiver-function.js';
import { WebhookSecrets } from '../../lib/constructs/secrets.js';

/** One function's bundle as synthesized. */
export interface StackBundle {
  readonly name: string;
  /** The asset folder (what Lambda unzips into /var/task). */
  readonly dir: string;
  /** The handler module, e.g. `<dir>/index.mjs`. */
  readonly entryFile: string;
  /** The function's environment from the template (values that are references left out). */
  readonly environment: Readonly<Record<string, string>>;
}

export interface StackBundles {
  readonly outdir: string;
  readonly receiver: StackBundle;
  readonly fanout: StackBundle;
  /** How long the synth (both bundles) took. */
  readonly synthMs: number;
}

/**
 * Synthesizes an app holding the stack's receiver and fan-out constructs into `outdir` (a new
 * temporary folder by default), and reads back each function's asset folder and environment from
 * the template. The queue, table, delivery stream, bucket and secret are imported, not created:
 * only the functions matter here.
 */
export function synthStackBundles(outdir = mkdtempSync(join(tmpdir(), 'spw-bench-synth-'))): StackBundles {
  // The constructs bundle as they are created (the asset is staged in the constructor).
  return quietBundlingNotices(() => synth(outdir));
}

function synth(outdir: string): StackBundles {
  const started = performance.now();
  const app = new App({ outdir });
  const stack = new Stack(app, 'BenchColdStart', { env: { account: '123456789012', region: 'us-east-1' } });
  const queue = WebhookQueue.fromQueueArn(stack, 'Queue', 'arn:aws:sqs:us-east-1:123456789012:bench');
  const inbox = Inbox.fromBucketName(stack, 'Inbox', 'bench-archive');
  const sourceSecrets = new WebhookSecrets(stack, 'Secrets', {
    sources: [{ name: 'default', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf' }],
  });
  const receiver = new ReceiverFunction(stack, 'Receiver', { queue, inbox, sourceSecrets });
  const fanout = new FanoutFunction(stack, 'Fanout', {
    queue,
    inbox,
    eventStore: EventTable.fromTableName(stack, 'Table', 'bench-events'),
    archive: EventArchive.streamFromName(stack, 'Stream', 'bench-archive'),
    eventRetentionDays: 90,
  });
  app.synth();

  const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const bundleOf = (name: string, fn: lambda.IFunction): StackBundle => {
    const logicalId = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).logicalId) as string;
    const props = template.Resources[logicalId]?.Properties;
    const key = (props?.Code as { S3Key?: string } | undefined)?.S3Key;
    if (!key) throw new Error(`the synthesized template has no code asset for ${name} (${logicalId})`);
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const handler = String(props?.Handler ?? 'index.handler');
    const base = handler.slice(0, handler.lastIndexOf('.'));
    const entryFile = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, base + ext)).find((f) => existsSync(f));
    if (!entryFile) throw new Error(`no handler module '${base}' in ${name}'s asset ${dir}: ${readdirSync(dir).join(', ')}`);
    const variables = (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const environment = Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return { name, dir, entryFile, environment };
  };
  return {
    outdir,
    receiver: bundleOf('receiver', receiver.function),
    fanout: bundleOf('fanout', fanout.function),
    synthMs: performance.now() - started,
  };
}

/** Runs `fn` without the CDK's "Bundling asset …" progress lines on stderr (anything else still shows). */
function quietBundlingNotices<T>(fn: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('Bundling asset ')) return true;
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

/** Sizes of a bundle: the files a cold start loads (the handler module and its static imports) and all of them. */
export interface BundleSize {
  /** Bytes of the handler module plus every chunk it imports statically, transitively. */
  readonly eagerBytes: number;
  /** Bytes of every JavaScript file of the bundle (lazily loaded chunks too; source maps excluded). */
  readonly totalBytes: number;
  readonly files: number;
}

/** Measures a bundle folder, following static `import … from "./…"` between its modules. */
export function bundleSize(entryFile: string, dir: string): BundleSize {
  const isCode = (f: string) => /\.[cm]?js$/.test(f);
  const all = listFiles(dir).filter(isCode);
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports only (`import{a}from"./x.mjs"`, `import"./x.mjs"`); `import("./x.mjs")` is lazy.
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      visit(join(file, '..', m[1] as string));
    }
  };
  visit(entryFile);
  const size = (f: string) => statSync(f).size;
  return {
    eagerBytes: [...seen].reduce((s, f) => s + size(f), 0),
    totalBytes: all.reduce((s, f) => s + size(f), 0),
    files: all.length,
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}
