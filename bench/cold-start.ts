/**
 * Cold-start benchmark (DESIGN §10: the receiver's bundle and import time within 1.25× of a
 * handler that only imports the SQS client and sends one message).
 *
 * The receiver and fan-out bundles are the stack's own: a CDK synth of `WebhooksFunction`
 * (lib/constructs/node-function.ts) runs NodejsFunction's local esbuild with `BUNDLING`; each
 * function gets the environment its template sets (`NODE_OPTIONS=--enable-source-maps`, …). The
 * floor handler is bundled with the same options (mirrored from `BUNDLING`, checked by rebuilding
 * the receiver and comparing bytes). Also measured: the prototype fix (the same options with
 * esbuild code splitting, `splitBundlingCode` in bench/lib/stack-bundles.ts) for both functions
 * and for the floor, so the split receiver can be compared like for like; and what each bundle
 * holds beyond the floor's, by package (esbuild's metafile).
 *
 * Each run starts a fresh `node` per variant (interleaved, so machine load hits all alike) that
 * imports the handler module and then handles one event against a loopback AWS stub
 * (`AWS_ENDPOINT_URL`): import time, and import plus the first event (credentials, signing, a
 * Secrets Manager read for the receiver, the SQS send / DynamoDB put / Firehose put, on plain
 * HTTP: no TLS handshake, which on AWS adds tens of ms to every variant alike). Times are medians
 * of `runs`; ratios are medians of per-run ratios, each variant run back to back with its floor.
 *
 * Alone: `npx tsx bench/cold-start.ts [--quick] [--runs N]`; also run by `npm run bench`.
 */
import './lib/quiet-sdk.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { build, type Metafile } from 'esbuild';
import { sign } from '../lambda/core/signature.js';
import { BUNDLING, lambdaEntry } from '../lib/constructs/node-function.js';
import { hasFlag, intFlag } from './lib/args.js';
import { startAwsStub } from './lib/aws-stub.js';
import { fmt, isMain, median, pairedRatio } from './lib/measure.js';
import { bundleSize, ENTRIES, esbuildOptionsOf, splitBuildOptions, synthStackBundles, type BundleSize } from './lib/stack-bundles.js';

/** DESIGN §10's target: the receiver's import time relative to the floor handler's. */
export const TARGET_RATIO = 1.25;
const SECRET = 'bench-cold-start-secret';

export interface ColdStartOptions {
  /** Fresh processes per variant and environment. @default 20 (5 with quick) */
  readonly runs?: number;
  readonly quick?: boolean;
}

export interface VariantTiming {
  readonly importMs: number;
  /** Import plus handling the first event. */
  readonly firstEventMs: number;
}

export interface VariantResult {
  readonly name: string;
  readonly description: string;
  readonly size: BundleSize;
  /** With the function's environment as the template sets it (NODE_OPTIONS included). */
  readonly deployed: VariantTiming;
  /** The same without `NODE_OPTIONS` (no `--enable-source-maps`). */
  readonly noSourceMaps: VariantTiming;
  /**
   * Against the floor bundled the same way (single file or split), each the median of the
   * per-run ratios (the variant and its floor run back to back, so passing load hits both).
   */
  readonly ratios: { readonly deployed: VariantTiming; readonly noSourceMaps: VariantTiming };
}

export interface ColdStartResult {
  readonly name: 'cold-start';
  readonly runs: number;
  readonly synthMs: number;
  readonly nodeOptions: string;
  /** Whether the floor's mirrored esbuild options rebuild the stack's receiver bundle byte for byte. */
  readonly mirrorExact: boolean;
  readonly mirrorNote: string;
  /** What the receiver's single-file bundle holds beyond the floor's, by package, largest first (bytes). */
  readonly extraOverFloor: ReadonlyArray<readonly [string, number]>;
  /** The same for the fan-out. */
  readonly fanoutExtraOverFloor: ReadonlyArray<readonly [string, number]>;
  /** floor, receiver, fanout, then each bundled with code splitting (the prototype). */
  readonly variants: readonly VariantResult[];
  /** receiver ÷ floor import time (deployed environment): the figure the target applies to. */
  readonly ratio: number;
  /** receiver-split ÷ floor import time: what the prototype fix gives against today's floor. */
  readonly splitRatio: number;
  /** receiver-split ÷ floor-split: the same, with the floor bundled the same (split) way. */
  readonly splitRatioLikeForLike: number;
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
  readonly env: Record<string, string>;
  readonly event: unknown;
  /** Throws when the first event's result is not what a working function answers. */
  check(result: unknown): void;
}

function receiverEvent(): APIGatewayProxyEvent {
  const body = Buffer.from(JSON.stringify({ event: 'message.didCreate', data: { messages: [{ messageId: 'm1', channelId: 'c1', userId: 'u1', data: { text: 'cold start' } }] } }));
  return {
    body: body.toString('base64'),
    isBase64Encoded: true,
    headers: { 'Content-Type': 'application/json', 'X-Amity-Signature': sign(body, SECRET) },
    multiValueHeaders: {},
    httpMethod: 'POST',
    path: '/webhook',
    resource: '/webhook',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'cold-start', requestTimeEpoch: 0 } as APIGatewayProxyEvent['requestContext'],
  };
}

function fanoutEvent(): SQSEvent {
  const body = JSON.stringify({ event: 'message.didCreate', data: { messages: [{ messageId: 'm1', channelId: 'c1', userId: 'u1', data: { text: 'cold start' } }] } });
  const attr = (stringValue: string) => ({ stringValue, dataType: 'String' });
  return {
    Records: [{
      messageId: 'cold-start-1', receiptHandle: 'r', body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench', awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1751450043221', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1751450043221' },
      messageAttributes: { eventId: attr('0'.repeat(32)), eventType: attr('message.didCreate'), receivedAt: attr('2025-07-02T10:34:03.221Z'), source: attr('default'), requestId: attr('cold-start') },
    }],
  };
}

async function timeOnce(v: Variant, withNodeOptions: boolean): Promise<VariantTiming> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...v.env, BENCH_FILE: v.entryFile, BENCH_EVENT: JSON.stringify(v.event) };
  if (!withNodeOptions) delete env.NODE_OPTIONS;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], { env, cwd: v.dir, maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`${v.name}: the child printed no result; stdout: ${stdout.slice(0, 300)} stderr: ${stderr.slice(0, 300)}`);
  const out = JSON.parse(line.slice('BENCH_RESULT '.length)) as VariantTiming & { result: unknown };
  v.check(out.result);
  return { importMs: out.importMs, firstEventMs: out.firstEventMs };
}

/** Bytes each package (or project folder) contributes to a bundle's entry output. */
function bytesByPackage(meta: Metafile): Map<string, number> {
  const out = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    if (!output.entryPoint) continue;
    for (const [path, info] of Object.entries(output.inputs)) {
      const i = path.lastIndexOf('node_modules/');
      const rest = i >= 0 ? path.slice(i + 'node_modules/'.length).split('/') : path.split('/');
      const key = i >= 0 ? (rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path)) : rest.slice(0, 2).join('/');
      out.set(key, (out.get(key) ?? 0) + info.bytesInOutput);
    }
  }
  return out;
}

/** Packages that grew from `floor` to `bundle`, with how many bytes, largest first. */
function extraBytes(bundle: Map<string, number>, floor: Map<string, number>): Array<readonly [string, number]> {
  return [...bundle].map(([k, v]) => [k, v - (floor.get(k) ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]);
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runColdStart(opts: ColdStartOptions = {}): Promise<ColdStartResult> {
  const runs = opts.runs ?? (opts.quick ? 5 : 20);
  const work = await mkdtemp(join(tmpdir(), 'spw-bench-cold-'));
  const stub = await startAwsStub({ secretString: SECRET });
  try {
    const bundles = synthStackBundles(join(work, 'cdk.out'));
    const { options, unmirrored } = esbuildOptionsOf(BUNDLING);

    // The floor, bundled like the functions (and like the split prototype, for a like-for-like ratio).
    const floorDir = join(work, 'floor');
    const floorBuild = await build({ ...options, entryPoints: [FLOOR_ENTRY], outfile: join(floorDir, 'index.mjs'), metafile: true });
    const floorSplitDir = join(work, 'floor-split');
    await build(splitBuildOptions(FLOOR_ENTRY, floorSplitDir));
    // The mirror check: the receiver rebuilt with the mirrored options must match the stack's bytes.
    const mirrorDir = join(work, 'mirror');
    const mirrorBuild = await build({ ...options, entryPoints: [lambdaEntry(ENTRIES.receiver)], outfile: join(mirrorDir, 'index.mjs'), metafile: true });
    const fanoutMirror = await build({ ...options, entryPoints: [lambdaEntry(ENTRIES.fanout)], outfile: join(work, 'mirror-fanout', 'index.mjs'), metafile: true });
    const [mine, theirs] = await Promise.all([readFile(join(mirrorDir, 'index.mjs')), readFile(bundles.receiver.entryFile)]);
    const mirrorExact = mine.equals(theirs) && unmirrored.length === 0;
    const mirrorNote = mirrorExact
      ? 'the floor is bundled with BUNDLING mirrored as esbuild options, which rebuild the stack\'s receiver bundle byte for byte'
      : `the mirrored options do NOT reproduce the stack's receiver bundle (${fmt(mine.length)} vs ${fmt(theirs.length)} bytes${unmirrored.length ? `; BUNDLING fields not mirrored: ${unmirrored.join(', ')}` : ''}): the floor may be bundled differently`;

    const aws = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: stub.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const receiverEnv = {
      ...aws,
      ...bundles.receiver.environment,
      QUEUE_URL: `${stub.endpoint}/123456789012/bench`,
      SOURCE_SECRETS: JSON.stringify({ default: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench' }),
      ARCHIVE_BUCKET_NAME: 'bench-archive',
    };
    const expectOk = (name: string) => (r: unknown) => {
      if ((r as { statusCode?: number })?.statusCode !== 200) throw new Error(`${name} answered ${JSON.stringify(r)} to its first event`);
    };
    const floorEnv = { ...aws, ...bundles.receiver.environment, QUEUE_URL: receiverEnv.QUEUE_URL };
    const floorCheck = (r: unknown) => {
      if (!(r as { MessageId?: string })?.MessageId) throw new Error(`floor: no MessageId in ${JSON.stringify(r)}`);
    };
    const fanoutEnv = { ...aws, ...bundles.fanout.environment, TABLE_NAME: 'bench-events', DELIVERY_STREAM_NAME: 'bench-archive', EVENT_RETENTION_DAYS: '90', ARCHIVE_BUCKET_NAME: 'bench-archive' };
    const fanoutCheck = (r: unknown) => {
      const failures = (r as { batchItemFailures?: unknown[] })?.batchItemFailures;
      if (!Array.isArray(failures) || failures.length > 0) throw new Error(`fan-out answered ${JSON.stringify(r)} to its first batch`);
    };
    const variants: Variant[] = [
      { name: 'floor', description: 'floor: SQS client + one send', entryFile: join(floorDir, 'index.mjs'), dir: floorDir, env: floorEnv, event: {}, check: floorCheck },
      { name: 'receiver', description: 'receiver as deployed', entryFile: bundles.receiver.entryFile, dir: bundles.receiver.dir, env: receiverEnv, event: receiverEvent(), check: expectOk('receiver') },
      { name: 'fanout', description: 'fan-out as deployed', entryFile: bundles.fanout.entryFile, dir: bundles.fanout.dir, env: fanoutEnv, event: fanoutEvent(), check: fanoutCheck },
      { name: 'floor-split', description: 'floor, split bundle', entryFile: join(floorSplitDir, 'index.mjs'), dir: floorSplitDir, env: floorEnv, event: {}, check: floorCheck },
      { name: 'receiver-split', description: 'receiver, split bundle (prototype)', entryFile: bundles.receiverSplit.entryFile, dir: bundles.receiverSplit.dir, env: { ...receiverEnv, ...bundles.receiverSplit.environment }, event: receiverEvent(), check: expectOk('receiver, split') },
      { name: 'fanout-split', description: 'fan-out, split bundle (prototype)', entryFile: bundles.fanoutSplit.entryFile, dir: bundles.fanoutSplit.dir, env: { ...fanoutEnv, ...bundles.fanoutSplit.environment }, event: fanoutEvent(), check: fanoutCheck },
    ];

    // One untimed round warms the file system cache; then interleave variants and environments.
    for (const v of variants) await timeOnce(v, true);
    const samples = variants.map(() => ({ deployed: [] as VariantTiming[], plain: [] as VariantTiming[] }));
    for (let r = 0; r < runs; r++) {
      for (const [i, v] of variants.entries()) {
        samples[i]?.deployed.push(await timeOnce(v, true));
        samples[i]?.plain.push(await timeOnce(v, false));
      }
    }
    const summary = (list: readonly VariantTiming[]): VariantTiming => ({ importMs: median(list.map((t) => t.importMs)), firstEventMs: median(list.map((t) => t.firstEventMs)) });
    const samplesOf = (name: string) => samples[variants.findIndex((v) => v.name === name)] as { deployed: VariantTiming[]; plain: VariantTiming[] };
    const paired = (a: readonly VariantTiming[], b: readonly VariantTiming[]): VariantTiming => ({
      importMs: pairedRatio(a.map((t) => t.importMs), b.map((t) => t.importMs)),
      firstEventMs: pairedRatio(a.map((t) => t.firstEventMs), b.map((t) => t.firstEventMs)),
    });
    const results: VariantResult[] = variants.map((v, i) => {
      const own = samples[i] as { deployed: VariantTiming[]; plain: VariantTiming[] };
      const floorOf = samplesOf(v.name.endsWith('-split') ? 'floor-split' : 'floor');
      return {
        name: v.name,
        description: v.description,
        size: bundleSize(v.entryFile, v.dir),
        deployed: summary(own.deployed),
        noSourceMaps: summary(own.plain),
        ratios: { deployed: paired(own.deployed, floorOf.deployed), noSourceMaps: paired(own.plain, floorOf.plain) },
      };
    });
    const byName = (n: string) => results.find((x) => x.name === n) as VariantResult;
    const x = byName('receiver').ratios.deployed.importMs;
    return {
      name: 'cold-start',
      runs,
      synthMs: bundles.synthMs,
      nodeOptions: bundles.receiver.environment.NODE_OPTIONS ?? '(none)',
      mirrorExact,
      mirrorNote,
      extraOverFloor: extraBytes(bytesByPackage(mirrorBuild.metafile), bytesByPackage(floorBuild.metafile)),
      fanoutExtraOverFloor: extraBytes(bytesByPackage(fanoutMirror.metafile), bytesByPackage(floorBuild.metafile)),
      variants: results,
      ratio: x,
      splitRatio: pairedRatio(samplesOf('receiver-split').deployed.map((t) => t.importMs), samplesOf('floor').deployed.map((t) => t.importMs)),
      splitRatioLikeForLike: byName('receiver-split').ratios.deployed.importMs,
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
  const find = (name: string) => res.variants.find((v) => v.name === name) as VariantResult;
  const kib = (b: number) => fmt(b / 1024);
  const lines = [
    `cold-start: bundles from a CDK synth of the stack's WebhooksFunction (${fmt(res.synthMs / 1000, 1)} s), fresh node per run, median of ${res.runs}; environment as deployed (NODE_OPTIONS=${res.nodeOptions}); first event against a loopback AWS stub`,
    `  ${'variant'.padEnd(44)} ${'KiB loaded/all'.padStart(14)} ${'import ms'.padStart(10)} ${'ratio'.padStart(6)} ${'+1st event ms'.padStart(14)} ${'ratio'.padStart(6)} │ no source maps: ${'import'.padStart(6)} ${'ratio'.padStart(6)} ${'+1st'.padStart(6)} ${'ratio'.padStart(6)}`,
  ];
  for (const v of res.variants) {
    const d = v.deployed;
    const p = v.noSourceMaps;
    const r = v.ratios;
    lines.push(`  ${v.description.padEnd(44)} ${`${kib(v.size.eagerBytes)}/${kib(v.size.totalBytes)}`.padStart(14)} ${fmt(d.importMs, 1).padStart(10)} ${r.deployed.importMs.toFixed(2).padStart(6)} ${fmt(d.firstEventMs, 1).padStart(14)} ${r.deployed.firstEventMs.toFixed(2).padStart(6)} │ ${' '.repeat(16)}${fmt(p.importMs, 1).padStart(6)} ${r.noSourceMaps.importMs.toFixed(2).padStart(6)} ${fmt(p.firstEventMs, 1).padStart(6)} ${r.noSourceMaps.firstEventMs.toFixed(2).padStart(6)}`);
  }
  const receiver = find('receiver');
  const split = find('receiver-split');
  lines.push(`  (ms: medians; ratios: medians of per-run ratios against the floor bundled the same way, run back to back; split rows against the split floor)`);
  lines.push(`  receiver import ratio ${res.ratio.toFixed(2)} (target ≤ ${res.target}) ${res.meetsTarget ? 'OK' : 'ABOVE TARGET'}`);
  lines.push(`  split prototype: receiver ${fmt(split.deployed.importMs, 1)} ms, ${res.splitRatio.toFixed(2)}× today's floor, ${res.splitRatioLikeForLike.toFixed(2)}× the floor split the same way (${res.splitRatioLikeForLike <= res.target ? 'meets' : 'misses'} the target); ${fmt(receiver.deployed.importMs - split.deployed.importMs, 1)} ms and ${kib(receiver.size.eagerBytes - split.size.eagerBytes)} KiB less loaded than as deployed`);
  const beyond = (who: string, extra: ReadonlyArray<readonly [string, number]>) => {
    const total = extra.reduce((sum, [, b]) => sum + b, 0);
    return `  the ${who}'s bundle holds ${kib(total)} KiB more than the floor's: ${extra.slice(0, 6).map(([k, b]) => `${k} ${kib(b)}`).join(', ')}${extra.length > 6 ? `, ${extra.length - 6} more ${kib(extra.slice(6).reduce((sum, [, b]) => sum + b, 0))}` : ''} (KiB)`;
  };
  lines.push(beyond('receiver', res.extraOverFloor));
  lines.push(beyond('fan-out', res.fanoutExtraOverFloor));
  lines.push(`  ${res.mirrorNote}`);
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function coldStartOptionsFromArgs(args: readonly string[]): ColdStartOptions {
  const runs = intFlag(args, '--runs');
  return { ...(runs ? { runs } : {}), quick: hasFlag(args, '--quick') };
}

if (isMain(import.meta.url)) {
  Promise.resolve()
    .then(() => runColdStart(coldStartOptionsFromArgs(process.argv.slice(2))))
    .then((res) => console.log(formatColdStart(res)))
    .catch((err: unknown) => {
      console.error(`cold-start benchmark failed: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    });
}
