/** Which stack the --aws commands talk to: --stack, else cdk.json's stackName, else the default. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.js';
import { targetStackName } from '../../cli/stack-target.js';
import { DEFAULT_STACK_NAME } from '../../lib/stack-name.js';

const dirs: string[] = [];
function project(cdkJson?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'spw-stack-target-'));
  dirs.push(dir);
  if (cdkJson !== undefined) writeFileSync(join(dir, 'cdk.json'), cdkJson);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('targetStackName', () => {
  it("takes --stack first, then cdk.json's stackName, then the default", () => {
    const dir = project(JSON.stringify({ app: 'x', context: { stackName: 'SocialPlusWebhooks-staging' } }));
    expect(targetStackName('Other', dir)).toBe('Other');
    expect(targetStackName(undefined, dir)).toBe('SocialPlusWebhooks-staging');
    expect(targetStackName(undefined, project(JSON.stringify({ context: {} })))).toBe(DEFAULT_STACK_NAME);
    expect(targetStackName(undefined, project())).toBe(DEFAULT_STACK_NAME);
  });

  it('refuses a --stack that cannot be a stack name, and a cdk.json that is not JSON', () => {
    expect(() => targetStackName('my stack', project())).toThrow(CliError);
    expect(() => targetStackName(undefined, project('{ "context": '))).toThrow(/cdk\.json in .* is not valid JSON/);
  });

  it('ignores a cdk.json stackName that synth would refuse (synth says why)', () => {
    expect(targetStackName(undefined, project(JSON.stringify({ context: { stackName: 'bad name' } })))).toBe(DEFAULT_STACK_NAME);
  });
});
