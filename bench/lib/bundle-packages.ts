/**
 * What a Lambda bundle loads, by package, from esbuild's metafile: the cold-start benchmark
 * (bench/cold-start.ts) compares the receiver's and the fan-out's with the floor handler's. A cold
 * start loads the entry output and what it imports statically; an `import()` target (a chunk of
 * its own, with code splitting) loads on first use.
 */
import { relative, sep } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ESBUILD_OPTIONS, esbuildBuildOptions } from '../../lib/constructs/node-function.js';

/**
 * The output files a cold start loads: the entry output and every output it imports statically,
 * transitively (`import()` targets are left out: they load on first use).
 */
export function eagerOutputs(meta: Metafile, entryFile: string): Set<string> {
  // With splitting, every `import()` target is an entry point of its own too: match the handler's.
  const input = relative(ESBUILD_OPTIONS.absWorkingDir, entryFile).split(sep).join('/');
  const entry = Object.keys(meta.outputs).find((k) => meta.outputs[k]?.entryPoint === input);
  if (!entry) throw new Error(`esbuild's metafile has no output for the entry point ${input}: ${Object.keys(meta.outputs).join(', ')}`);
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of meta.outputs[path]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  return seen;
}

/** Bytes each package (or project folder) contributes to a bundle's eagerly loaded outputs, or to its lazy ones. */
export function bytesByPackage({ meta, entryFile }: BuildMeta, which: 'eager' | 'lazy' = 'eager'): Map<string, number> {
  const eager = eagerOutputs(meta, entryFile);
  const out = new Map<string, number>();
  for (const [file, output] of Object.entries(meta.outputs)) {
    if (file.endsWith('.map') || eager.has(file) !== (which === 'eager')) continue;
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
export function extraBytes(bundle: Map<string, number>, floor: Map<string, number>): Array<readonly [string, number]> {
  return [...bundle]
    .map(([k, v]) => [k, v - (floor.get(k) ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1]);
}

/** A bundle's esbuild metafile and the handler module it was built from. */
export interface BuildMeta {
  readonly meta: Metafile;
  readonly entryFile: string;
}

/** The metafile of `entryFile` bundled as the stack bundles a function (the bundle itself is discarded). */
export async function metafileOf(entryFile: string, outdir: string): Promise<BuildMeta> {
  const { metafile } = await build({ ...esbuildBuildOptions(entryFile, outdir), metafile: true });
  return { meta: metafile, entryFile };
}
