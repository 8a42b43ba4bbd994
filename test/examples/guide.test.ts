/**
 * docs/extending.md, followed to the letter by a machine: in a temporary copy of the project (the
 * files git tracks or would track, with node_modules linked), it writes a new handler and its test
 * from the guide's own code blocks (the ```ts file=… blocks, renamed so they are not the shipped
 * example), registers the handler as the guide's "Register it" step shows, runs `npm run format`
 * as step 2 says, then the type check (`tsc --noEmit`, the whole project), the lint of what it
 * wrote (ESLint, and Prettier's check of the whole copy) and, with vitest, that new test and the
 * tests that read the registered list. All of it must pass: adding a handler the guide's way keeps
 * the suite green.
 * The real checkout is never written to.
 *
 * About a minute on two cores: the type check of the whole project (run alongside the tests)
 * dominates.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUIDE = readFileSync(join(ROOT, 'docs', 'extending.md'), 'utf8');
const INDEX = 'lambda/fanout/handlers/index.ts';
/** The tests that read the registered handler list (they once spelled it out, and failed when a handler was added). */
const LIST_READERS = ['test/examples/handlers-from-env.test.ts', 'test/telemetry/entry-points.test.ts'];

/** The guide's step 1 and 2 blocks: the handler module and its test, by path. */
function fileBlocks(): { handler: { path: string; code: string }; test: { path: string; code: string } } {
  const blocks = [...GUIDE.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({ path: m[1] as string, code: m[2] as string }));
  const handler = blocks.find((b) => b.path.startsWith('lambda/fanout/handlers/'));
  const test = blocks.find((b) => b.path.startsWith('test/'));
  if (!handler || !test)
    throw new Error(
      `docs/extending.md should show a handler under lambda/fanout/handlers/ and its test under test/ as \`\`\`ts file=… blocks; found ${blocks.map((b) => b.path).join(', ') || 'none'}`,
    );
  return { handler, test };
}

/** The code block of the "Register it" step (indented under its list item), de-indented. */
function registerBlock(): string {
  const m = /Register it[^\n]*\n\n( *)```ts\n([\s\S]*?)\n\1```/.exec(GUIDE);
  if (!m) throw new Error('docs/extending.md has no ```ts block under its "Register it" step');
  const indent = m[1] as string;
  return (m[2] as string)
    .split('\n')
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    .join('\n');
}

/** The module's `name: '…'` in a `defineHandler({...})`. */
function handlerName(code: string): string {
  const m = /\bname: '([a-z0-9-]+)'/.exec(code);
  if (!m) throw new Error(`the guide's handler has no name: '…':\n${code}`);
  return m[1] as string;
}

/** Replaces every whole-word occurrence of each key (names, file stems, identifiers). */
function rename(text: string, renames: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of renames) out = out.replace(new RegExp(`(?<![\\w-])${from.replace(/[-]/g, '\\-')}(?![\\w-])`, 'g'), to);
  return out;
}

/**
 * Applies the register block to index.ts as the step says: its import lines go after the file's
 * last import, and the handlers its list adds (those the shipped list lacks) are appended to the
 * `export const handlers` list. Any other line in the block is a step this cannot follow: it fails.
 */
function register(index: string, block: string): string {
  const lines = block.split('\n').filter((l) => l.trim() !== '');
  const imports = lines.filter((l) => l.startsWith('import '));
  const listLine = lines.filter((l) => l.startsWith('export const handlers'));
  const other = lines.filter((l) => !imports.includes(l) && !listLine.includes(l));
  expect(other, 'lines of the "Register it" block this test cannot apply').toEqual([]);
  expect(listLine).toHaveLength(1);
  const listOf = (line: string): string[] => {
    const m = /=\s*\[([^\]]*)\]/.exec(line);
    if (!m) throw new Error(`no [ … ] list in: ${line}`);
    return (m[1] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const src = index.split('\n');
  const at = src.findIndex((l) => l.startsWith('export const handlers'));
  expect(at, `${INDEX} has an "export const handlers" line`).toBeGreaterThanOrEqual(0);
  const current = listOf(src[at] as string);
  const added = listOf(listLine[0] as string).filter((h) => !current.includes(h));
  expect(added.length, 'the register step adds a handler to the list').toBeGreaterThan(0);
  src[at] = (src[at] as string).replace(/=\s*\[([^\]]*)\]/, () => `= [${[...current, ...added].join(', ')}]`);
  // After the end of the last import statement (a multi-line one ends at its `} from '…';`).
  let end = src.reduce((last, l, i) => (/^import\b/.test(l) ? i : last), -1);
  while (end >= 0 && end < src.length && !/'[^']+';$/.test(src[end] as string)) end += 1;
  src.splice(end + 1, 0, ...imports);
  return src.join('\n');
}

/** Runs a command in `cwd`, resolving with its exit code and output. */
function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // This file runs under vitest: the child is a fresh run, not one of its workers.
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'TEST') delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

interface VitestJson {
  readonly numFailedTests: number;
  readonly testResults: readonly {
    readonly name: string;
    readonly status: string;
    readonly assertionResults: readonly { readonly status: string }[];
  }[];
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('docs/extending.md, followed to the letter', () => {
  it('a new handler written, tested and registered as the guide shows type-checks, and its test and the suite pass', async () => {
    const { handler, test } = fileBlocks();
    const block = registerBlock();
    const stem = (handler.path.split('/').pop() as string).replace(/\.ts$/, '');
    const identifier = /^import (\w+) from '\.\/([\w-]+)\.js';$/m.exec(block);
    expect(identifier?.[2], "the register step imports the guide's handler module").toBe(stem);
    const oldName = handlerName(handler.code);
    // A new handler, not the shipped example: another name, file and identifier.
    const renames = new Map([
      [stem, `${stem}-guide`],
      [oldName, `${oldName}-guide`],
      [identifier?.[1] as string, `${identifier?.[1] as string}Guide`],
    ]);
    const newHandlerPath = handler.path.replace(`${stem}.ts`, `${stem}-guide.ts`);
    const newTestPath = test.path.replace(/([\w-]+)\.test\.ts$/, (_m, base: string) => `${rename(base, renames)}.test.ts`);
    expect(newHandlerPath).not.toBe(handler.path);
    expect(newTestPath).not.toBe(test.path);
    const newHandler = rename(handler.code, renames);
    const newTest = rename(test.code, renames);
    expect(newHandler).toContain(`name: '${oldName}-guide'`);
    expect(newTest).toContain(`${stem}-guide.js`);

    const realIndex = readFileSync(join(ROOT, INDEX), 'utf8');
    const copy = mkdtempSync(join(tmpdir(), 'guide-'));
    copies.push(copy);
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
      .split('\0')
      // (Deleted files are still listed; node_modules is linked, not copied.)
      .filter((f) => f !== '' && f !== 'node_modules' && !f.startsWith('node_modules/') && existsSync(join(ROOT, f)));
    for (const f of files) {
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      cpSync(join(ROOT, f), join(copy, f));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');

    expect(existsSync(join(copy, newHandlerPath)), `${newHandlerPath} is new`).toBe(false);
    writeFileSync(join(copy, newHandlerPath), newHandler);
    writeFileSync(join(copy, newTestPath), newTest);
    const registered = register(realIndex, rename(block, renames));
    writeFileSync(join(copy, INDEX), registered);
    expect(registered).toContain(`import ${identifier?.[1] as string}Guide from './${stem}-guide.js';`);

    // Step 2: `npm run format`, then `npm test`'s type check, lint (of what the guide wrote) and tests.
    const bin = (pkg: string, file: string): string => join(copy, 'node_modules', pkg, file);
    const format = await run(process.execPath, [bin('prettier', 'bin/prettier.cjs'), '--write', '.'], copy);
    expect(format.code, `npm run format in the copy:\n${format.output}`).toBe(0);
    const report = join(copy, 'guide-vitest.json');
    const written = [newHandlerPath, newTestPath, INDEX];
    const [lint, formatted, typecheck, tests] = await Promise.all([
      run(process.execPath, [bin('eslint', 'bin/eslint.js'), ...written], copy),
      run(process.execPath, [bin('prettier', 'bin/prettier.cjs'), '--check', '.'], copy),
      run(process.execPath, [join(copy, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'], copy),
      run(
        process.execPath,
        [
          join(copy, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          newTestPath,
          ...LIST_READERS,
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${report}`,
        ],
        copy,
      ),
    ]);
    expect(lint.code, `eslint in the copy:\n${lint.output}`).toBe(0);
    expect(formatted.code, `prettier --check in the copy:\n${formatted.output}`).toBe(0);
    expect(typecheck.output, 'tsc --noEmit in the copy').toBe('');
    expect(typecheck.code).toBe(0);
    expect(tests.code, `vitest in the copy:\n${tests.output}`).toBe(0);
    const results = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
    expect(results.numFailedTests).toBe(0);
    const byFile = new Map(results.testResults.map((r) => [r.name.slice(copy.length + 1), r]));
    for (const f of [newTestPath, ...LIST_READERS]) {
      expect(byFile.get(f)?.status, f).toBe('passed');
      expect(byFile.get(f)?.assertionResults.length, f).toBeGreaterThan(0);
    }

    // The real checkout is as it was.
    expect(readFileSync(join(ROOT, INDEX), 'utf8')).toBe(realIndex);
    expect(existsSync(join(ROOT, newHandlerPath))).toBe(false);
    expect(existsSync(join(ROOT, newTestPath))).toBe(false);
  }, 300_000);
});
