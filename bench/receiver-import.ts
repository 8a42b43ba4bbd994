/**
 * Receiver cold-start import benchmark (DESIGN §10: bundle and import time within 1.25× of a
 * handler that only imports the SQS client). Bundles, the way the stack does (one minified ESM
 * file, the SDK inside), four entries:
 * - `sqs-only`: a handler that imports the SQS client and builds it (the reference);
 * - `receiver-no-inbox`: the receiver without claim checks and spills (SQS + Secrets Manager);
 * - `receiver`: `lambda/receiver/index.ts` as deployed (the S3 client loaded on first use; esbuild
 *   inlines it into the one file, where it is parsed but not evaluated until a spill needs it);
 * - `receiver-eager-s3`: the same with `@aws-sdk/client-s3` imported at the top, for comparison;
 * then times a fresh `node` importing each, interleaved, and reports medians.
 *
 * Alone: `npx tsx bench/receiver-import.ts [--runs N]`; also run by `npm run bench`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { fmt, isMain, median } from './lib/measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RECEIVER_ENTRY = join(ROOT, 'lambda/receiver/index.ts');
/** DESIGN §10's target: the receiver's import time relative to the SQS-only handler's. */
export const TARGET_RATIO = 1.25;

export interface ReceiverImportOptions {
  /** Fresh processes per variant. @default 9 */
  readonly runs?: number;
}

export interface VariantResult {
  readonly name: string;
  readonly bundleBytes: number;
  readonly medianImportMs: number;
}

export interface ReceiverImportResult {
  readonly name: 'receiver-import';
  readonly runs: number;
  readonly variants: readonly VariantResult[];
  /** receiver ÷ sqs-only import time. */
  readonly ratio: number;
  /** receiver-eager-s3 ÷ sqs-only, what an eager S3 import would cost. */
  readonly eagerRatio: number;
  readonly target: number;
  readonly meetsTarget: boolean;
}

const VARIANTS: ReadonlyArray<{ name: string; contents: string }> = [
  {
    name: 'sqs-only',
    contents: "import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';\n"
      + 'const client = new SQSClient({});\n'
      + 'export const handler = async () => client.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: "{}" }));\n',
  },
  {
    // The receiver as it was before claim checks and spills: what their (lazily evaluated) code costs.
    name: 'receiver-no-inbox',
    contents: "import { SQSClient } from '@aws-sdk/client-sqs';\n"
      + "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';\n"
      + `import { SqsEventQueue } from ${JSON.stringify(join(ROOT, 'lambda/adapters/sqs-queue.ts'))};\n`
      + `import { SecretsManagerSecretSource } from ${JSON.stringify(join(ROOT, 'lambda/adapters/secrets-manager-source.ts'))};\n`
      + `import { noMetrics } from ${JSON.stringify(join(ROOT, 'lambda/core/telemetry.ts'))};\n`
      + `import { createJsonLogger } from ${JSON.stringify(join(ROOT, 'lambda/shared/logger.ts'))};\n`
      + `import { createReceiverHandler } from ${JSON.stringify(join(ROOT, 'lambda/receiver/handler.ts'))};\n`
      + 'export const handler = createReceiverHandler({ queue: new SqsEventQueue(new SQSClient({}), process.env.QUEUE_URL), '
      + 'secrets: new SecretsManagerSecretSource(new SecretsManagerClient({}), JSON.parse(process.env.SOURCE_SECRETS)), '
      + "logger: createJsonLogger({ service: 'receiver' }), metrics: noMetrics });\n",
  },
  { name: 'receiver', contents: `export { handler } from ${JSON.stringify(RECEIVER_ENTRY)};\n` },
  {
    name: 'receiver-eager-s3',
    contents: "import { S3Client } from '@aws-sdk/client-s3';\n"
      + 'export const s3 = new S3Client({});\n'
      + `export { handler } from ${JSON.stringify(RECEIVER_ENTRY)};\n`,
  },
];

/** What the entry point reads at cold start; values only need to be well-formed. */
const CHILD_ENV = {
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench',
  SOURCE_SECRETS: '{"default":"arn:aws:secretsmanager:us-east-1:123456789012:secret:bench"}',
  ARCHIVE_BUCKET_NAME: 'bench-archive',
  AWS_REGION: 'us-east-1',
  LOG_LEVEL: 'ERROR',
  NODE_NO_WARNINGS: '1',
};

async function bundle(dir: string, v: { name: string; contents: string }): Promise<string> {
  const outfile = join(dir, `${v.name}.mjs`);
  await build({
    stdin: { contents: v.contents, resolveDir: ROOT, loader: 'ts', sourcefile: `${v.name}.ts` },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

const run = promisify(execFile);

/** Milliseconds a fresh node process takes to import the file (module load and top-level code). */
async function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...CHILD_ENV }, cwd: ROOT });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`could not read the import time of ${file}: '${stdout.slice(0, 200)}'`);
  return ms;
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runReceiverImport(opts: ReceiverImportOptions = {}): Promise<ReceiverImportResult> {
  const runs = opts.runs ?? 9;
  const dir = await mkdtemp(join(tmpdir(), 'spw-bench-import-'));
  try {
    const files = await Promise.all(VARIANTS.map((v) => bundle(dir, v)));
    // One untimed import each warms the file system cache; then interleave so load drift hits all alike.
    for (const f of files) await importMs(f);
    const times = files.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) {
      for (const [i, f] of files.entries()) times[i]?.push(await importMs(f));
    }
    const variants = await Promise.all(VARIANTS.map(async (v, i) => ({
      name: v.name,
      bundleBytes: (await stat(files[i] as string)).size,
      medianImportMs: median(times[i] ?? []),
    })));
    const [sqsOnly, , receiver, eager] = variants as [VariantResult, VariantResult, VariantResult, VariantResult];
    const ratio = receiver.medianImportMs / sqsOnly.medianImportMs;
    return {
      name: 'receiver-import', runs, variants, ratio, eagerRatio: eager.medianImportMs / sqsOnly.medianImportMs, target: TARGET_RATIO, meetsTarget: ratio <= TARGET_RATIO,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Human-readable lines for a result. */
export function formatReceiverImport(res: ReceiverImportResult): string {
  return [
    `receiver-import: bundled like the stack (minified ESM, SDK inside), fresh node per import, median of ${res.runs}`,
    ...res.variants.map((v) => `  ${v.name.padEnd(20)} ${fmt(v.bundleBytes / 1024).padStart(6)} KiB  import ${fmt(v.medianImportMs, 1).padStart(6)} ms`),
    `  ratio receiver / sqs-only ${res.ratio.toFixed(2)} (target ≤ ${res.target}) ${res.meetsTarget ? 'OK' : 'ABOVE TARGET'}; with S3 imported eagerly it would be ${res.eagerRatio.toFixed(2)}`,
  ].join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function receiverImportOptionsFromArgs(args: readonly string[]): ReceiverImportOptions {
  const i = args.indexOf('--runs');
  if (i < 0) return {};
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--runs needs a positive integer, got '${args[i + 1] ?? ''}'`);
  return { runs: n };
}

if (isMain(import.meta.url)) {
  Promise.resolve()
    .then(() => runReceiverImport(receiverImportOptionsFromArgs(process.argv.slice(2))))
    .then((res) => console.log(formatReceiverImport(res)))
    .catch((err: unknown) => {
      console.error(`receiver-import benchmark failed: ${(err as Error).message}`);
      process.exitCode = 1;
    });
}
