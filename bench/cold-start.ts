/**
 * Cold-start benchmark (docs/architecture.md §10: the receiver's bundle and import time within 1.25× of a
 * handler that only imports the SQS client and sends one message).
 *
 * The receiver and fan-out bundles are the stack's own: a CDK synth of `ReceiverFunction` and
 * `FanoutFunction`, which bundle through `WebhooksFunction` (lib/constructs/node-function.ts:
 * esbuild's JS API, code splitting, so a dynamic `import()` becomes a chunk a cold start does not
 * load). The floor handler is bundled with the same options (`esbuildBuildOptions`), and once more
 * as a single file, to show what splitting saves the floor. Every variant runs both without and
 * with `NODE_OPTIONS=--enable-source-maps`, each against the floor in the same setting; the
 * deployed figure is the one its template sets (the receiver: none; the fan-out:
 * `--enable-source-maps`). Also reported: what each function's cold start loads beyond the floor's,
 * by package (esbuild's metafile, eagerly loaded output files only).
 *
 * Each run starts a fresh `node` per variant and setting (interleaved, so machine load hits all
 * alike) that imports the handler module and then handles one event against a loopback AWS stub
 * (`AWS_ENDPOINT_URL`): import time, and import plus the first event (credentials, signing, a
 * Secrets Manager read for the receiver, the SQS send / DynamoDB put / Firehose put, on plain
 * HTTP: no TLS handshake, which on AWS adds tens of ms to every variant alike). Times are medians
 * of `runs`; ratios are medians of per-run ratios, each variant run back to back with its floor.
 *
 * Alone: `npx tsx bench/cold-start.ts [--quick] [--runs N]`; also run by `npm run bench`.
 */
import './lib/quiet-sdk.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { ESBUILD_OPTIONS, lambdaEntry } from '../lib/constructs/node-function.js';
import { hasFlag, presentFlags } from './lib/args.js';
import { startAwsStub } from './lib/aws-stub.js';
import { runWhenMain } from './lib/bench-main.js';
import { bytesByPackage, extraBytes, metafileOf } from './lib/bundle-packages.js';
import { signedWebhookEvent } from '../test/support/api-gateway.js';
import { fmt, median, pairedRatio } from './lib/measure.js';
import { bundleSize, synthStackBundles, type BundleSize } from './lib/stack-bundles.js';

/** docs/architecture.md §10's target: the receiver's import time relative to the floor handler's. */
export const TARGET_RATIO = 1.25;
const SECRET = 'bench-cold-start-secret';
const SOURCE_MAPS = '--enable-source-maps';

export interface ColdStartOptions {
  /** Fresh processes per variant and setting. @default 20 (5 with quick) */
  readonly runs?: number;
  readonly quick?: boolean;
}

export interface VariantTiming {
  readonly importMs: number;
  /** Import plus handling the first event. */
  readonly firstEventMs: number;
}

/** A variant's timings in one source-map setting, and its ratios against the floor in the same setting. */
export interface SettingResult {
  readonly timing: VariantTiming;
  /** Medians of the per-run ratios (the variant and the floor run back to back, so passing load hits both). */
  readonly ratio: VariantTiming;
}

export interface VariantResult {
  readonly name: string;
  readonly description: string;
  readonly size: BundleSize;
  /** Whether its template sets `NODE_OPTIONS=--enable-source-maps` (the floor: like the receiver). */
  readonly deployedWithSourceMaps: boolean;
  /** Without `NODE_OPTIONS`. */
  readonly plain: SettingResult;
  /** With `NODE_OPTIONS=--enable-source-maps`. */
  readonly sourceMaps: SettingResult;
}

export interface ColdStartResult {
  readonly name: 'cold-start';
  readonly runs: number;
  readonly synthMs: number;
  /** `NODE_OPTIONS` in each function's template ('(none)' when unset). */
  readonly nodeOptions: { readonly receiver: string; readonly fanout: string };
  /** What the receiver's cold start loads beyond the floor's, by package, largest first (bytes). */
  readonly extraOverFloor: ReadonlyArray<readonly [string, number]>;
  /** The same for the fan-out. */
  readonly fanoutExtraOverFloor: ReadonlyArray<readonly [string, number]>;
  /** What the receiver bundles but loads only on first use, by package, largest first (bytes). */
  readonly receiverLazy: ReadonlyArray<readonly [string, number]>;
  /** floor (split, as deployed), floor as a single file, receiver, fan-out. */
  readonly variants: readonly VariantResult[];
  /** receiver ÷ floor import time, in the receiver's deployed setting: the figure the target applies to. */
  readonly ratio: number;
  /** fan-out ÷ floor import time, in the fan-out's deployed setting (no target). */
  readonly fanoutRatio: number;
  readonly target: number;
  readonly meetsTarget: boolean;
}

/** The floor handler's source: it only imports the SQS client and sends one message. */
const FLOOR_ENTRY = fileURLToPath(new URL('./lib/floor-handler.ts', import.meta.url));

/** Imports the handler module, then handles one event; prints its timings on a marked line. */
const CHILD_SCRIPT = `
const { pathToFileURL } = await import('node:url');
const t0 = performance.now();
const mod = await import(pathToFileURL(process.env.BENCH_FILE).href);
const t1 = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
if (event.requestContext) event.requestContext.requestTimeEpoch = Date.now();
const result = await mod.handler(event);
const t2 = performance.now();
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ importMs: t1 - t0, firstEventMs: t2 - t0, result }) + '\\n', () => process.exit(0));
`;

const run = promisify(execFile);

interface Variant {
  readonly name: string;
  readonly description: string;
  readonly entryFile: string;
  readonly dir: string;
  /** The environment its template sets (with or without `NODE_OPTIONS`) and the bench's endpoints. */
  readonly env: Record<string, string>;
  readonly deployedWithSourceMaps: boolean;
  readonly event: unknown;
  /** Throws when the first event's result is not what a working function answers. */
  check(result: unknown): void;
}

function receiverEvent(): APIGatewayProxyEvent {
  const body = JSON.stringify({
    event: 'message.didCreate',
    data: { messages: [{ messageId: 'm1', channelId: 'c1', userId: 'u1', data: { text: 'cold start' } }] },
  });
  return signedWebhookEvent(body, SECRET, { base64: true, requestId: 'cold-start', requestTimeEpoch: 0 });
}

function fanoutEvent(): SQSEvent {
  const body = JSON.stringify({
    event: 'message.didCreate',
    data: { messages: [{ messageId: 'm1', channelId: 'c1', userId: 'u1', data: { text: 'cold start' } }] },
  });
  const attr = (stringValue: string) => ({ stringValue, dataType: 'String' });
  return {
    Records: [
      {
        messageId: 'cold-start-1',
        receiptHandle: 'r',
        body,
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench',
        awsRegion: 'us-east-1',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '1751450043221',
          SenderId: 'x',
          ApproximateFirstReceiveTimestamp: '1751450043221',
        },
        messageAttributes: {
          eventId: attr('0'.repeat(32)),
          eventType: attr('message.didCreate'),
          receivedAt: attr('2025-07-02T10:34:03.221Z'),
          source: attr('default'),
          requestId: attr('cold-start'),
        },
      },
    ],
  };
}

async function timeOnce(v: Variant, sourceMaps: boolean): Promise<VariantTiming> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...v.env, BENCH_FILE: v.entryFile, BENCH_EVENT: JSON.stringify(v.event) };
  delete env.NODE_OPTIONS;
  if (sourceMaps) env.NODE_OPTIONS = SOURCE_MAPS;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
    env,
    cwd: v.dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`${v.name}: the child printed no result; stdout: ${stdout.slice(0, 300)} stderr: ${stderr.slice(0, 300)}`);
  const out = JSON.parse(line.slice('BENCH_RESULT '.length)) as VariantTiming & { result: unknown };
  v.check(out.result);
  return { importMs: out.importMs, firstEventMs: out.firstEventMs };
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runColdStart(opts: ColdStartOptions = {}): Promise<ColdStartResult> {
  const runs = opts.runs ?? (opts.quick ? 5 : 20);
  const work = await mkdtemp(join(tmpdir(), 'spw-bench-cold-'));
  const stub = await startAwsStub({ secretString: SECRET });
  try {
    const bundles = synthStackBundles(join(work, 'cdk.out'));

    // The floor, bundled as the stack bundles the functions (split), and as a single file.
    const floorDir = join(work, 'floor');
    const floorMeta = await metafileOf(FLOOR_ENTRY, floorDir);
    const floorSingleDir = join(work, 'floor-single');
    await build({
      ...ESBUILD_OPTIONS,
      mainFields: [...ESBUILD_OPTIONS.mainFields],
      external: [],
      entryPoints: [FLOOR_ENTRY],
      splitting: false,
      outfile: join(floorSingleDir, 'index.mjs'),
    });
    // The functions' metafiles, for the by-package breakdown: the same options as their assets.
    const receiverMeta = await metafileOf(lambdaEntry('lambda/receiver/index.ts'), join(work, 'meta-receiver'));
    const fanoutMeta = await metafileOf(lambdaEntry('lambda/fanout/index.ts'), join(work, 'meta-fanout'));

    const aws = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: stub.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const queueUrl = `${stub.endpoint}/123456789012/bench`;
    // The template's values first; the stub's endpoints and names over any that point at AWS.
    const receiverEnv = {
      ...aws,
      ...bundles.receiver.environment,
      QUEUE_URL: queueUrl,
      SOURCE_SECRETS: JSON.stringify({ default: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench' }),
      ARCHIVE_BUCKET_NAME: 'bench-archive',
    };
    const expectOk = (name: string) => (r: unknown) => {
      if ((r as { statusCode?: number })?.statusCode !== 200) throw new Error(`${name} answered ${JSON.stringify(r)} to its first event`);
    };
    // The floor gets the receiver's environment: the target compares the two.
    const floorEnv = { ...aws, ...bundles.receiver.environment, QUEUE_URL: queueUrl };
    const floorCheck = (r: unknown) => {
      if (!(r as { MessageId?: string })?.MessageId) throw new Error(`floor: no MessageId in ${JSON.stringify(r)}`);
    };
    const fanoutEnv = {
      ...aws,
      ...bundles.fanout.environment,
      TABLE_NAME: 'bench-events',
      DELIVERY_STREAM_NAME: 'bench-archive',
      EVENT_RETENTION_DAYS: '90',
      ARCHIVE_BUCKET_NAME: 'bench-archive',
    };
    const fanoutCheck = (r: unknown) => {
      const failures = (r as { batchItemFailures?: unknown[] })?.batchItemFailures;
      if (!Array.isArray(failures) || failures.length > 0) throw new Error(`fan-out answered ${JSON.stringify(r)} to its first batch`);
    };
    const withMaps = (env: Readonly<Record<string, string>>) => env.NODE_OPTIONS?.includes(SOURCE_MAPS) ?? false;
    const floorMaps = withMaps(bundles.receiver.environment);
    const variants: Variant[] = [
      {
        name: 'floor',
        description: 'floor: SQS client + one send (split)',
        entryFile: join(floorDir, 'index.mjs'),
        dir: floorDir,
        env: floorEnv,
        deployedWithSourceMaps: floorMaps,
        event: {},
        check: floorCheck,
      },
      {
        name: 'floor-single',
        description: 'floor, single file',
        entryFile: join(floorSingleDir, 'index.mjs'),
        dir: floorSingleDir,
        env: floorEnv,
        deployedWithSourceMaps: floorMaps,
        event: {},
        check: floorCheck,
      },
      {
        name: 'receiver',
        description: 'receiver as deployed',
        entryFile: bundles.receiver.entryFile,
        dir: bundles.receiver.dir,
        env: receiverEnv,
        deployedWithSourceMaps: withMaps(bundles.receiver.environment),
        event: receiverEvent(),
        check: expectOk('receiver'),
      },
      {
        name: 'fanout',
        description: 'fan-out as deployed',
        entryFile: bundles.fanout.entryFile,
        dir: bundles.fanout.dir,
        env: fanoutEnv,
        deployedWithSourceMaps: withMaps(bundles.fanout.environment),
        event: fanoutEvent(),
        check: fanoutCheck,
      },
    ];

    // One untimed round warms the file system cache; then interleave variants and settings.
    for (const v of variants) await timeOnce(v, v.deployedWithSourceMaps);
    const samples = variants.map(() => ({ plain: [] as VariantTiming[], maps: [] as VariantTiming[] }));
    for (let r = 0; r < runs; r++) {
      for (const [i, v] of variants.entries()) {
        samples[i]?.plain.push(await timeOnce(v, false));
        samples[i]?.maps.push(await timeOnce(v, true));
      }
    }
    const summary = (list: readonly VariantTiming[]): VariantTiming => ({
      importMs: median(list.map((t) => t.importMs)),
      firstEventMs: median(list.map((t) => t.firstEventMs)),
    });
    const paired = (a: readonly VariantTiming[], b: readonly VariantTiming[]): VariantTiming => ({
      importMs: pairedRatio(
        a.map((t) => t.importMs),
        b.map((t) => t.importMs),
      ),
      firstEventMs: pairedRatio(
        a.map((t) => t.firstEventMs),
        b.map((t) => t.firstEventMs),
      ),
    });
    const floor = samples[0] as { plain: VariantTiming[]; maps: VariantTiming[] };
    const results: VariantResult[] = variants.map((v, i) => {
      const own = samples[i] as { plain: VariantTiming[]; maps: VariantTiming[] };
      return {
        name: v.name,
        description: v.description,
        size: bundleSize(v.entryFile, v.dir),
        deployedWithSourceMaps: v.deployedWithSourceMaps,
        plain: { timing: summary(own.plain), ratio: paired(own.plain, floor.plain) },
        sourceMaps: { timing: summary(own.maps), ratio: paired(own.maps, floor.maps) },
      };
    });
    const deployedRatio = (n: string) => {
      const v = results.find((x) => x.name === n) as VariantResult;
      return (v.deployedWithSourceMaps ? v.sourceMaps : v.plain).ratio.importMs;
    };
    const x = deployedRatio('receiver');
    const floorBytes = bytesByPackage(floorMeta);
    return {
      name: 'cold-start',
      runs,
      synthMs: bundles.synthMs,
      nodeOptions: { receiver: bundles.receiver.environment.NODE_OPTIONS ?? '(none)', fanout: bundles.fanout.environment.NODE_OPTIONS ?? '(none)' },
      extraOverFloor: extraBytes(bytesByPackage(receiverMeta), floorBytes),
      fanoutExtraOverFloor: extraBytes(bytesByPackage(fanoutMeta), floorBytes),
      receiverLazy: [...bytesByPackage(receiverMeta, 'lazy')].filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]),
      variants: results,
      ratio: x,
      fanoutRatio: deployedRatio('fanout'),
      target: TARGET_RATIO,
      meetsTarget: x <= TARGET_RATIO,
    };
  } finally {
    await stub.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Human-readable lines for a result. */
export function formatColdStart(res: ColdStartResult): string {
  const kib = (b: number) => fmt(b / 1024);
  const cells = (s: SettingResult, deployed: boolean) =>
    `${`${deployed ? '*' : ''}${fmt(s.timing.importMs, 1)}`.padStart(7)} ${s.ratio.importMs.toFixed(2).padStart(6)} ${fmt(s.timing.firstEventMs, 1).padStart(7)} ${s.ratio.firstEventMs.toFixed(2).padStart(6)}`;
  const lines = [
    `cold-start: bundles from a CDK synth of the stack's ReceiverFunction and FanoutFunction (split chunks; ${fmt(res.synthMs / 1000, 1)} s), fresh node per run, median of ${res.runs}; NODE_OPTIONS as deployed: receiver ${res.nodeOptions.receiver}, fan-out ${res.nodeOptions.fanout}; first event against a loopback AWS stub`,
    `  ${''.padEnd(38)} ${''.padStart(14)} │ ${'no source maps'.padEnd(29)} │ ${SOURCE_MAPS}`,
    `  ${'variant'.padEnd(38)} ${'KiB loaded/all'.padStart(14)} │ ${'import'.padStart(7)} ${'ratio'.padStart(6)} ${'+1st'.padStart(7)} ${'ratio'.padStart(6)} │ ${'import'.padStart(7)} ${'ratio'.padStart(6)} ${'+1st'.padStart(7)} ${'ratio'.padStart(6)}`,
  ];
  for (const v of res.variants) {
    lines.push(
      `  ${v.description.padEnd(38)} ${`${kib(v.size.eagerBytes)}/${kib(v.size.totalBytes)}`.padStart(14)} │ ${cells(v.plain, !v.deployedWithSourceMaps)} │ ${cells(v.sourceMaps, v.deployedWithSourceMaps)}`,
    );
  }
  lines.push(
    `  (ms: medians; * the setting its template deploys; ratios: medians of per-run ratios against the split floor in the same setting, run back to back)`,
  );
  lines.push(
    `  receiver import ratio ${res.ratio.toFixed(2)} (target ≤ ${res.target}) ${res.meetsTarget ? 'OK' : 'ABOVE TARGET'}; fan-out ${res.fanoutRatio.toFixed(2)} (no target)`,
  );
  const list = (extra: ReadonlyArray<readonly [string, number]>) => {
    const total = extra.reduce((sum, [, b]) => sum + b, 0);
    return `${kib(total)} KiB: ${extra
      .slice(0, 6)
      .map(([k, b]) => `${k} ${kib(b)}`)
      .join(', ')}${extra.length > 6 ? `, ${extra.length - 6} more ${kib(extra.slice(6).reduce((sum, [, b]) => sum + b, 0))}` : ''} (KiB)`;
  };
  lines.push(`  the receiver's cold start loads more than the floor's: ${list(res.extraOverFloor)}`);
  lines.push(`  the fan-out's cold start loads more than the floor's: ${list(res.fanoutExtraOverFloor)}`);
  lines.push(`  the receiver loads only on first use: ${list(res.receiverLazy)}`);
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function coldStartOptionsFromArgs(args: readonly string[]): ColdStartOptions {
  return { ...presentFlags(args, { runs: '--runs' }), quick: hasFlag(args, '--quick') };
}

runWhenMain(import.meta.url, { name: 'cold-start', optionsFromArgs: coldStartOptionsFromArgs, run: runColdStart, format: formatColdStart });
