/**
 * Which deployed stack the `--aws` commands talk to: `--stack` when given, else the `stackName`
 * key of `cdk.json`'s context in the working directory (the same key `cdk deploy` reads), else the
 * default name. Loads no CDK.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_STACK_NAME, STACK_NAME_PATTERN } from '../lib/stack-name.js';
import { CliError } from './errors.js';
import { errorMessage } from '../lambda/core/errors.js';

/** `cdk.json`'s context in `dir`, or `{}` when there is none; a CliError when it is not JSON. */
export function readCdkJsonContext(dir: string = process.cwd()): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(join(dir, 'cdk.json'), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { context?: unknown };
    return typeof parsed.context === 'object' && parsed.context !== null && !Array.isArray(parsed.context)
      ? (parsed.context as Record<string, unknown>)
      : {};
  } catch (err) {
    throw new CliError(`cdk.json in ${dir} is not valid JSON: ${errorMessage(err)}`);
  }
}

/** The stack name: `--stack`, else cdk.json's `stackName`, else {@link DEFAULT_STACK_NAME}. */
export function targetStackName(explicit: string | undefined, dir: string = process.cwd()): string {
  if (explicit !== undefined) {
    if (!STACK_NAME_PATTERN.test(explicit))
      throw new CliError(`--stack '${explicit}' is not a stack name: a letter, then letters, digits and hyphens`);
    return explicit;
  }
  const configured = readCdkJsonContext(dir).stackName;
  return typeof configured === 'string' && STACK_NAME_PATTERN.test(configured) ? configured : DEFAULT_STACK_NAME;
}
