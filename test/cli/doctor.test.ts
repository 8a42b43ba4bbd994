/**
 * `doctor` without AWS: the check runner (needs, skips, a check that throws), the report and its
 * rendering (markers, fix lines, control characters), the local checks (Node.js, esbuild, the
 * configuration), the stack statuses' fixes, and the constants doctor copies from the packages it
 * must not load (package.json's engines, aws-cdk-lib's minimum bootstrap version, aws-cdk's
 * bootstrap template), plus the guarantee that `doctor` never loads aws-cdk-lib, nor the AWS SDK
 * without `--aws`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIN_BOOTSTRAP_VERSION, parseBootstrapTemplateVersion, readLatestBootstrapVersion } from '../../cli/doctor/aws-support.js';
import { clean, exitCodeOf, fail, pass, report, runChecks, skip, warn, type Check, type CheckResult } from '../../cli/doctor/check.js';
import type { DoctorContext, EsbuildProbe } from '../../cli/doctor/context.js';
import { runDoctor } from '../../cli/doctor/doctor.js';
import { configCheck, esbuildCheck, MIN_NODE_VERSION, nodeCheck, probeEsbuild } from '../../cli/doctor/local-checks.js';
import { renderHuman, renderJson } from '../../cli/doctor/render.js';
import { stackHealth, statusFix } from '../../cli/doctor/stack-status.js';
import { CliError } from '../../cli/errors.js';
import { runCli } from './run-cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE_CDK_JSON = readFileSync(join(ROOT, 'test/fixtures/aws/doctor/cdk.json'), 'utf8');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-local-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function context(over: Partial<DoctorContext> = {}): DoctorContext {
  return {
    cwd: dir,
    nodeVersion: '22.11.0',
    probeEsbuild: () => ({ installed: true, version: '0.28.2' }),
    now: () => new Date('2026-12-02T12:00:00Z'),
    facts: {},
    ...over,
  };
}

const check = (id: string, outcome: CheckResult['status'] | (() => never), needs?: string[]): Check<DoctorContext> => ({
  id,
  title: `the ${id} check`,
  ...(needs ? { needs } : {}),
  run: () =>
    typeof outcome === 'function'
      ? outcome()
      : { status: outcome, detail: `${id} ${outcome}`, ...(outcome === 'warn' || outcome === 'fail' ? { fix: `fix ${id}` } : {}) },
});

describe('the check runner', () => {
  it('skips a check whose need failed or was skipped, passing the reason on', async () => {
    const results = await runChecks(
      [check('a', 'fail'), check('b', 'pass', ['a']), check('c', 'skip'), check('d', 'pass', ['c']), check('e', 'warn'), check('f', 'pass', ['e'])],
      context(),
    );
    expect(results.map((r) => [r.id, r.status, r.detail])).toEqual([
      ['a', 'fail', 'a fail'],
      ['b', 'skip', 'skipped: the a check failed'],
      ['c', 'skip', 'c skip'],
      ['d', 'skip', 'c skip'],
      ['e', 'warn', 'e warn'],
      ['f', 'pass', 'f pass'],
    ]);
  });

  it("uses a need's own word for its dependents when it gives one", async () => {
    const first: Check<DoctorContext> = {
      id: 'a',
      title: 'A',
      run: () => ({ ...skip('not deployed yet: npx cdk deploy (stack X)'), dependents: 'not deployed yet: npx cdk deploy' }),
    };
    const results = await runChecks([first, check('b', 'pass', ['a'])], context());
    expect(results[1]?.detail).toBe('not deployed yet: npx cdk deploy');
  });

  it('reports a check that throws as failed and goes on', async () => {
    const results = await runChecks(
      [
        check('boom', () => {
          throw new TypeError('x is undefined');
        }),
        check('next', 'pass'),
      ],
      context(),
    );
    expect(results[0]).toMatchObject({ status: 'fail', detail: 'the check itself failed: TypeError: x is undefined' });
    expect(results[1]?.status).toBe('pass');
  });

  it("lists a group's checks when their turn comes, after what the earlier checks found", async () => {
    const seen: string[] = [];
    const learn: Check<DoctorContext> = {
      id: 'learn',
      title: 'learn',
      run: (ctx) => {
        ctx.facts.identity = { account: '1', arn: 'arn' };
        return pass('ok');
      },
    };
    const results = await runChecks(
      [
        learn,
        (ctx) => {
          seen.push(ctx.facts.identity?.account ?? 'none');
          return [check('x', 'pass'), check('y', 'pass')];
        },
      ],
      context(),
    );
    expect(seen).toEqual(['1']);
    expect(results.map((r) => r.id)).toEqual(['learn', 'x', 'y']);
  });
});

describe('the report', () => {
  const results: CheckResult[] = [
    { id: 'a', title: 'first', ...pass('fine') },
    { id: 'b', title: 'second', ...warn('not great', 'do this') },
    { id: 'c', title: 'third', ...fail('broken', 'do that'), more: ['- one', '- two'] },
    { id: 'd', title: 'fourth', ...skip('not yet') },
  ];

  it('counts each status and exits 1 only with a failure', () => {
    const r = report(results);
    expect(r.summary).toEqual({ pass: 1, warn: 1, fail: 1, skip: 1 });
    expect(exitCodeOf(r)).toBe(1);
    expect(exitCodeOf(report(results.filter((x) => x.status !== 'fail')))).toBe(0);
  });

  it('renders one line per check, a fix under warnings and failures, extra lines indented, a summary', () => {
    expect(renderHuman(report(results), { aws: true })).toEqual([
      'pass  first   fine',
      'WARN  second  not great',
      '      fix: do this',
      'FAIL  third   broken',
      '              - one',
      '              - two',
      '      fix: do that',
      'skip  fourth  not yet',
      '',
      '1 passed, 1 warning, 1 failed, 1 skipped',
    ]);
    expect(renderHuman(report([]), { aws: false }).at(-1)).toBe('(local checks only: add --aws to check the AWS account and the deployed stack)');
  });

  it('prints JSON as { checks: [{ id, title, status, detail, fix? }], summary }', () => {
    expect(JSON.parse(renderJson(report(results.slice(2))))).toEqual({
      checks: [
        { id: 'c', title: 'third', status: 'fail', detail: 'broken\n- one\n- two', fix: 'do that' },
        { id: 'd', title: 'fourth', status: 'skip', detail: 'not yet' },
      ],
      summary: { pass: 0, warn: 0, fail: 1, skip: 1 },
    });
  });

  it('shows control characters escaped: an answer cannot move the cursor, recolour or add a line', () => {
    expect(clean('a\u001b[31mb\nc\rd\te\u0000f\u009bg\u202eh')).toBe('a\\u001b[31mb\\nc\\rd\\te\\u0000f\\u009bg\\u202eh');
    const r = report([{ id: 'x', title: 'ti\u001btle', ...warn('one\ntwo', 'f\u0007ix') }]);
    expect(r.checks[0]).toEqual({ id: 'x', title: 'ti\\u001btle', status: 'warn', detail: 'one\\ntwo', fix: 'f\\u0007ix' });
  });
});

describe('Node.js version', () => {
  it('passes on 20.19 and later', async () => {
    expect(await nodeCheck.run(context({ nodeVersion: '20.19.0' }))).toEqual(pass('v20.19.0 (needs 20.19 or later)'));
    expect((await nodeCheck.run(context({ nodeVersion: 'v22.11.0' }))).status).toBe('pass');
  });

  it('fails below 20.19 with the install command', async () => {
    expect(await nodeCheck.run(context({ nodeVersion: '20.18.3' }))).toEqual(
      fail('v20.18.3 is older than 20.19, the oldest this project runs on (package.json engines)', 'install Node.js 20.19 or later (nvm install 22)'),
    );
    expect((await nodeCheck.run(context({ nodeVersion: '18.20.4' }))).status).toBe('fail');
  });

  it("keeps the minimum of package.json's engines", () => {
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`>=${MIN_NODE_VERSION.major}.${MIN_NODE_VERSION.minor}`);
  });
});

describe('esbuild', () => {
  it('passes with the installed esbuild, which runs', async () => {
    const installed = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;
    expect(probeEsbuild()).toEqual({ installed: true, version: installed });
    expect(await esbuildCheck.run(context({ probeEsbuild }))).toEqual(pass(`esbuild ${installed}, local bundling (no Docker needed)`));
  });

  it('fails when missing or unable to run, with npm ci', async () => {
    const missing: EsbuildProbe = { installed: false, error: 'esbuild is not installed' };
    expect(await esbuildCheck.run(context({ probeEsbuild: () => missing }))).toMatchObject({
      status: 'fail',
      fix: 'npm ci',
      detail: expect.stringMatching(/^esbuild is not installed: npx cdk deploy cannot bundle/),
    });
    const broken: EsbuildProbe = {
      installed: true,
      version: '0.28.2',
      error: "You installed esbuild for another platform than the one you're currently using.\nmore",
    };
    expect(await esbuildCheck.run(context({ probeEsbuild: () => broken }))).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/does not run: You installed esbuild for another platform/),
      fix: expect.stringMatching(/^npm ci/),
    });
  });
});

describe('configuration (cdk.json context, validated by buildConfig)', () => {
  it('passes a valid cdk.json, summing it up, and keeps the configuration for the AWS checks', async () => {
    writeFileSync(join(dir, 'cdk.json'), FIXTURE_CDK_JSON);
    const ctx = context();
    expect(await configCheck.run(ctx)).toEqual(
      pass('stack SocialPlusWebhooks; sources default (eu), eu-network (eu); fanoutMaxConcurrency 10; apiRateLimit 2000, apiBurstLimit 1000'),
    );
    expect(ctx.facts.config?.sources.map((s) => s.name)).toEqual(['default', 'eu-network']);
  });

  it('fails with one line per problem', async () => {
    writeFileSync(
      join(dir, 'cdk.json'),
      JSON.stringify({ app: 'x', context: { fanoutMaxConcurrency: 1, logLevel: 'LOUD', fanoutMaxConcurency: 3 } }),
    );
    const ctx = context();
    const outcome = await configCheck.run(ctx);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toBe("cdk.json's context has 3 problems; npx cdk deploy would refuse it:");
    expect(outcome.more).toEqual([
      '- fanoutMaxConcurency: is not a configuration key; did you mean fanoutMaxConcurrency?',
      '- fanoutMaxConcurrency: 1 is not an integer from 2 to 1000',
      "- logLevel: 'LOUD' is not one of DEBUG, INFO, WARN, ERROR",
    ]);
    expect(ctx.facts.config).toBeUndefined();
  });

  it('fails on a cdk.json that is not JSON', async () => {
    writeFileSync(join(dir, 'cdk.json'), '{ "context": { ');
    expect(await configCheck.run(context())).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^cdk.json in .* is not valid JSON/),
      fix: 'correct the JSON syntax of cdk.json',
    });
  });

  it('warns without a cdk.json (cdk runs where it is) and goes on with the defaults', async () => {
    const ctx = context();
    expect(await configCheck.run(ctx)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^no cdk.json in .*, so the defaults \(stack SocialPlusWebhooks; source default \(us\)/),
    });
    expect(ctx.facts.config).toBeDefined();
  });
});

describe('socialplus-webhooks doctor (local)', () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  it('runs only the local checks without --aws, and exits 0 when they pass', async () => {
    writeFileSync(join(dir, 'cdk.json'), FIXTURE_CDK_JSON);
    process.chdir(dir);
    const r = await runCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { checks: Array<{ id: string }> }).checks.map((c) => c.id)).toEqual(['node', 'esbuild', 'config']);
  });

  it('exits 1 on a bad configuration, printing each problem under it and the fix', async () => {
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'x', context: { apiStageName: 'my stage', eventRetentionDays: 0 } }));
    process.chdir(dir);
    const r = await runCli(['doctor']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('FAIL  configuration (cdk.json)'));
    expect(lines.slice(at, at + 4).map((l) => l.trim())).toEqual([
      "FAIL  configuration (cdk.json)         cdk.json's context has 2 problems; npx cdk deploy would refuse it:",
      "- apiStageName: 'my stage' is not a stage name: letters, digits and underscores, 1 to 128 characters",
      '- eventRetentionDays: 0 is not an integer from 1 to 3650',
      'fix: correct these keys in the "context" of cdk.json (the README\'s Deploy section lists every key and its allowed values)',
    ]);
    expect(r.stderr).toBe('socialplus-webhooks: doctor: 1 check failed (2 passed, 0 warnings, 1 failed, 0 skipped); see the fix: lines above\n');
  });

  it('refuses the AWS options without --aws', async () => {
    await expect(runDoctor({ stack: 'Other', region: 'eu-west-1' })).rejects.toThrow(new CliError('--stack, --region need --aws'));
    const r = await runCli(['doctor', '--toolkit-stack-name', 'Mine']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'socialplus-webhooks: --toolkit-stack-name needs --aws\n' });
    await expect(runDoctor({ aws: true, region: 'not a region' })).rejects.toThrow(/--region 'not a region' is not an AWS region name/);
  });
});

describe('stack statuses', () => {
  const t = { stackName: 'S', region: 'eu-west-1', redeploy: 'npx cdk deploy' };

  it('sorts each status into ok, rolled back, in progress, not created, broken', () => {
    expect(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'].map(stackHealth)).toEqual(['ok', 'ok', 'ok']);
    expect(['UPDATE_ROLLBACK_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'].map(stackHealth)).toEqual(['rolled-back', 'rolled-back']);
    expect(
      ['CREATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'].map(stackHealth),
    ).toEqual(Array(4).fill('in-progress'));
    expect(stackHealth('REVIEW_IN_PROGRESS')).toBe('not-created');
    expect(
      ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED', 'UPDATE_FAILED', 'UPDATE_ROLLBACK_FAILED', 'DELETE_FAILED', 'SOMETHING_NEW'].map(
        stackHealth,
      ),
    ).toEqual(Array(7).fill('broken'));
  });

  it('gives the way out of each state that blocks a deploy', () => {
    expect(statusFix('ROLLBACK_COMPLETE', t)).toMatch(/^aws cloudformation delete-stack --stack-name S --region eu-west-1, then npx cdk deploy/);
    expect(statusFix('UPDATE_ROLLBACK_FAILED', t)).toMatch(
      /^aws cloudformation continue-update-rollback --stack-name S --region eu-west-1, then npx cdk deploy/,
    );
    expect(statusFix('UPDATE_FAILED', t)).toMatch(/aws cloudformation rollback-stack --stack-name S --region eu-west-1$/);
    expect(statusFix('DELETE_FAILED', t)).toMatch(/delete-stack --stack-name S --region eu-west-1 again, then npx cdk deploy$/);
    expect(statusFix('UPDATE_IN_PROGRESS', t)).toMatch(/^wait until it ends/);
  });
});

describe('what doctor copies instead of loading', () => {
  it("MIN_BOOTSTRAP_VERSION is aws-cdk-lib's DefaultStackSynthesizer minimum", () => {
    const synthesizer = readFileSync(join(ROOT, 'node_modules/aws-cdk-lib/core/lib/stack-synthesizers/default-synthesizer.js'), 'utf8');
    expect(Number(/MIN_BOOTSTRAP_STACK_VERSION\s*=\s*(\d+)/.exec(synthesizer)?.[1])).toBe(MIN_BOOTSTRAP_VERSION);
  });

  it("reads the bootstrap version of the installed aws-cdk's template", () => {
    const template = readFileSync(createRequire(import.meta.url).resolve('aws-cdk/lib/api/bootstrap/bootstrap-template.yaml'), 'utf8');
    // The template keeps the version twice, in the SSM parameter and the output, on purpose.
    const ssm = Number(/CdkBootstrapVersion:\n {4}Type: AWS::SSM::Parameter[\s\S]*?\n {6}Value: '(\d+)'/.exec(template)?.[1]);
    expect(ssm).toBeGreaterThanOrEqual(MIN_BOOTSTRAP_VERSION);
    expect(parseBootstrapTemplateVersion(template)).toBe(ssm);
    expect(readLatestBootstrapVersion()).toBe(ssm);
    expect(
      parseBootstrapTemplateVersion(
        'Resources:\n  X:\n    Type: Y\nOutputs:\n  BucketName:\n    Value: b\n  BootstrapVersion:\n    Description: d\n    Value: "41"\n',
      ),
    ).toBe(41);
    expect(parseBootstrapTemplateVersion('Outputs:\n  BucketName:\n    Value: b\n')).toBeUndefined();
  });

  /** The modules `from` reaches through relative imports, and the packages they import: statically only, or dynamic `import()` too. */
  function importGraph(from: string, withDynamic: boolean): { files: Set<string>; packages: Set<string> } {
    const files = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      files.add(file);
      const source = readFileSync(file, 'utf8');
      const specifiers = [
        ...[...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]),
        ...(withDynamic ? [...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]) : []),
      ];
      for (const s of specifiers) {
        if (s === undefined) continue;
        if (!s.startsWith('.')) {
          packages.add(s);
          continue;
        }
        const target = resolve(dirname(file), s.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
      }
    };
    visit(join(ROOT, from));
    return { files, packages };
  }

  it('never loads aws-cdk-lib, and loads the AWS SDK only for --aws', () => {
    const everything = importGraph('cli/commands/doctor.ts', true);
    expect(everything.files).toContain(join(ROOT, 'lib/config.ts'));
    expect(everything.files).toContain(join(ROOT, 'cli/doctor/stack-checks.ts'));
    expect([...everything.packages].filter((p) => /^(aws-cdk-lib|aws-cdk|constructs|cdk-nag)(\/|$)/.test(p))).toEqual([]);
    const withoutAws = importGraph('cli/commands/doctor.ts', false);
    expect(
      [...withoutAws.files]
        .map((f) => f.slice(ROOT.length))
        .filter((f) => f.startsWith('cli/doctor/'))
        .sort(),
    ).toEqual(['cli/doctor/check.ts', 'cli/doctor/doctor.ts', 'cli/doctor/local-checks.ts', 'cli/doctor/render.ts']);
    expect([...withoutAws.packages].filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
