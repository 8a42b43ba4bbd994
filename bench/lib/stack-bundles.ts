/**
 * The Lambda bundles exactly as the stack builds them, for the cold-start benchmark:
 * - {@link synthStackBundles} synthesizes a small app with the stack's own `WebhooksFunction`
 *   construct (lib/constructs/node-function.ts: NodejsFunction, local esbuild, `BUNDLING`) for the
 *   receiver and the fan-out entry points, and returns each asset folder with the environment the
 *   template gives the function (`NODE_OPTIONS`, `LOG_LEVEL`);
 * - {@link esbuildOptionsOf} turns the stack's `BUNDLING` into esbuild JS options the way
 *   NodejsFunction turns it into command-line flags, for bundles the stack does not make (the
 *   floor handler, the code-splitting prototype);
 * - {@link splitBundlingCode} is the prototype of the fix for the receiver's cold start: the same
 *   options with esbuild's code splitting, as a `lambda.Code` a `lambda.Function` can use.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, AssetHashType, DockerImage, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { buildSync, type BuildOptions } from 'esbuild';
import { BUNDLING, WebhooksFunction, lambdaEntry } from '../../lib/constructs/node-function.js';

/** The repository root, where NodejsFunction runs esbuild (its `projectRoot`). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The functions' entry points, as `lib/constructs/receiver-function.ts` and `fanout-function.ts` name them. */
export const ENTRIES = { receiver: 'lambda/receiver/index.ts', fanout: 'lambda/fanout/index.ts' } as const;

/** BundlingOptions fields {@link esbuildOptionsOf} mirrors; any other field set makes the mirror inexact. */
const MIRRORED = new Set([
  'format', 'target', 'minify', 'sourceMap', 'sourceMapMode', 'sourcesContent', 'externalModules', 'nodeModules', 'loader',
  'define', 'logLevel', 'keepNames', 'banner', 'footer', 'mainFields', 'inject', 'metafile', 'forceDockerBundling', 'bundleAwsSDK',
]);

/** The esbuild options the stack's bundling flags amount to, and the fields that could not be mirrored. */
export interface MirroredOptions {
  readonly options: BuildOptions;
  /** `BUNDLING` fields that change the bundle but have no mirror here (e.g. `commandHooks`, `esbuildArgs`). */
  readonly unmirrored: readonly string[];
}

/**
 * esbuild JS options equivalent to NodejsFunction's command line for `bundling`
 * (aws-cdk-lib/aws-lambda-nodejs `Bundling.buildEsbuildArgs`): bundle for node, format, target,
 * minify, source map, externals, loaders, defines, log level, keep-names, banner, footer, main
 * fields, inject. Entry and output are the caller's.
 */
export function esbuildOptionsOf(bundling: BundlingOptions): MirroredOptions {
  const sourceMap = bundling.sourceMapMode ?? bundling.sourceMap;
  const mode = bundling.sourceMapMode ?? SourceMapMode.DEFAULT;
  // NodejsFunction externalizes the runtime's SDK unless externalModules is given or the SDK is bundled on purpose.
  const externals = [...(bundling.externalModules ?? (bundling.bundleAwsSDK ? [] : ['@aws-sdk/*'])), ...(bundling.nodeModules ?? [])];
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    ...(bundling.format ? { format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs' } : {}),
    ...(bundling.target ? { target: bundling.target } : {}),
    minify: bundling.minify ?? false,
    sourcemap: !sourceMap ? false : mode === SourceMapMode.DEFAULT ? true : (mode as 'external' | 'inline' | 'both'),
    sourcesContent: bundling.sourcesContent ?? true,
    external: externals,
    ...(bundling.loader ? { loader: bundling.loader as BuildOptions['loader'] } : {}),
    ...(bundling.define ? { define: bundling.define } : {}),
    logLevel: (bundling.logLevel ?? 'warning') as BuildOptions['logLevel'],
    ...(bundling.keepNames ? { keepNames: true } : {}),
    ...(bundling.banner ? { banner: { js: bundling.banner } } : {}),
    ...(bundling.footer ? { footer: { js: bundling.footer } } : {}),
    ...(bundling.mainFields ? { mainFields: [...bundling.mainFields] } : {}),
    ...(bundling.inject ? { inject: [...bundling.inject] } : {}),
    absWorkingDir: PROJECT_ROOT,
  };
  const unmirrored = Object.entries(bundling).filter(([k, v]) => v !== undefined && !MIRRORED.has(k)).map(([k]) => k);
  return { options, unmirrored };
}

/**
 * PROTOTYPE of the stack change that keeps the receiver's lazily used S3 client out of its cold
 * start: the stack's own esbuild options plus code splitting (ESM, several output files), built
 * at synth by esbuild's JS API as a local bundling step, for a plain `lambda.Function`
 * (`handler: 'index.handler'`). NodejsFunction cannot do it: it always passes `--outfile`, which
 * esbuild refuses together with `--splitting`. A dynamic `import()` of a bundled module
 * becomes its own chunk file, loaded only when the code path runs.
 */
export function splitBundlingCode(entry: string, bundling: BundlingOptions = BUNDLING): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    // As NodejsFunction does: hash what was built, not the project folder.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never used, because the local step below always bundles (or throws).
      image: DockerImage.fromRegistry('local-esbuild-only'),
      // CDK caches staged assets by source path and bundling options, and cannot see inside the
      // local step: without something naming the entry, every function would get the first bundle.
      command: ['esbuild', '--bundle', entry, '--splitting'],
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync(splitBuildOptions(lambdaEntry(entry), outputDir, bundling));
          return true;
        },
      },
    },
  });
}

/**
 * The esbuild options of {@link splitBundlingCode}: the stack's options, an `index.mjs` entry
 * module, and the chunks it imports (statically or on first use) under `chunks/`.
 */
export function splitBuildOptions(entryFile: string, outdir: string, bundling: BundlingOptions = BUNDLING): BuildOptions {
  return {
    ...esbuildOptionsOf(bundling).options,
    entryPoints: { index: entryFile },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
  };
}

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
  /** The receiver built by {@link splitBundlingCode}, deployed the same way otherwise. */
  readonly receiverSplit: StackBundle;
  /** The fan-out built by {@link splitBundlingCode}. */
  readonly fanoutSplit: StackBundle;
  /** How long the synth (both bundles, the prototype) took. */
  readonly synthMs: number;
}

/**
 * Synthesizes an app holding the stack's `WebhooksFunction` for each entry point, plus the
 * split-bundling prototype of each, into `outdir` (a new temporary folder by default),
 * and reads back each function's asset folder and environment from the template.
 */
export function synthStackBundles(outdir = mkdtempSync(join(tmpdir(), 'spw-bench-synth-'))): StackBundles {
  // The constructs bundle as they are created (NodejsFunction stages its asset in its constructor).
  return quietBundlingNotices(() => synth(outdir));
}

function synth(outdir: string): StackBundles {
  const started = performance.now();
  const app = new App({ outdir });
  const stack = new Stack(app, 'BenchColdStart');
  const common = { timeout: Duration.seconds(3), logLevel: 'INFO' as const, logRetention: logs.RetentionDays.ONE_DAY, invocation: 'benchmark only' };
  const receiver = new WebhooksFunction(stack, 'Receiver', { ...common, entry: ENTRIES.receiver, description: 'receiver (bench)', memorySize: 1024 });
  const fanout = new WebhooksFunction(stack, 'Fanout', { ...common, entry: ENTRIES.fanout, description: 'fan-out (bench)', memorySize: 512 });
  const splitOf = (id: string, entry: string, like: WebhooksFunction) => {
    const fn = new lambda.Function(stack, id, {
      code: splitBundlingCode(entry),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
    });
    // The same environment as the deployed function: whatever WebhooksFunction sets (NODE_OPTIONS, LOG_LEVEL, …).
    for (const [k, v] of Object.entries(environmentOf(stack, like.function.node.defaultChild as lambda.CfnFunction))) fn.addEnvironment(k, v);
    return fn;
  };
  const receiverSplit = splitOf('ReceiverSplit', ENTRIES.receiver, receiver);
  const fanoutSplit = splitOf('FanoutSplit', ENTRIES.fanout, fanout);
  app.synth();

  const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const bundleOf = (name: string, fn: lambda.CfnFunction): StackBundle => {
    const logicalId = stack.resolve(fn.logicalId) as string;
    const props = template.Resources[logicalId]?.Properties;
    const key = (props?.Code as { S3Key?: string } | undefined)?.S3Key;
    if (!key) throw new Error(`the synthesized template has no code asset for ${name} (${logicalId})`);
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const handler = String(props?.Handler ?? 'index.handler');
    const base = handler.slice(0, handler.lastIndexOf('.'));
    const entryFile = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, base + ext)).find((f) => existsSync(f));
    if (!entryFile) throw new Error(`no handler module '${base}' in ${name}'s asset ${dir}: ${readdirSync(dir).join(', ')}`);
    const variables = ((props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {};
    const environment = Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return { name, dir, entryFile, environment };
  };
  return {
    outdir,
    receiver: bundleOf('receiver', receiver.function.node.defaultChild as lambda.CfnFunction),
    fanout: bundleOf('fanout', fanout.function.node.defaultChild as lambda.CfnFunction),
    receiverSplit: bundleOf('receiver, split', receiverSplit.node.defaultChild as lambda.CfnFunction),
    fanoutSplit: bundleOf('fan-out, split', fanoutSplit.node.defaultChild as lambda.CfnFunction),
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

function environmentOf(stack: Stack, fn: lambda.CfnFunction): Record<string, string> {
  const env = stack.resolve(fn.environment) as { variables?: Record<string, unknown> } | undefined;
  return Object.fromEntries(Object.entries(env?.variables ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
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
