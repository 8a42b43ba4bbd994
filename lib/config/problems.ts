/**
 * How the configuration reports what is wrong: every reader adds one line per problem to a
 * {@link Problems} list and returns the default instead of the bad value, so `buildConfig` can
 * list every problem at once in a {@link ConfigError}. Each line names the key, the bad value and
 * what is allowed.
 */

import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';

/** The configuration is invalid; `problems` holds one line per bad key. */
export class ConfigError extends SocialPlusWebhooksError {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (CDK context, from cdk.json "context" or -c key=value):\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'See the Deploy section of the README for every key and its allowed values.',
    );
    this.name = 'ConfigError';
  }
}

/** The problems found so far, in the order they were found. */
export class Problems {
  readonly lines: string[] = [];

  add(problem: string): void {
    this.lines.push(problem);
  }

  /** How many so far: a reader compares it before and after to know whether a value was accepted. */
  get count(): number {
    return this.lines.length;
  }
}

/** Shows a bad value in a message: strings quoted, other values as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 120 ? `${value.slice(0, 117)}...` : value}'`;
  if (value === undefined) return 'undefined';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** An integer in [min, max], given as a number or (from `-c key=value`) a string of digits. */
export function readInteger(p: Problems, key: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    p.add(`${key}: ${show(raw)} is not an integer from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

/** One of a fixed list, matched without regard to case. */
export function readOneOf<T extends string>(p: Problems, key: string, raw: unknown, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  const found = typeof raw === 'string' ? allowed.find((a) => a.toLowerCase() === raw.trim().toLowerCase()) : undefined;
  if (found === undefined) {
    p.add(`${key}: ${show(raw)} is not one of ${allowed.join(', ')}`);
    return fallback;
  }
  return found;
}

/** `true` or `false`, given as a boolean or (from `-c key=value`) a string; `meaning` says what each does. */
export function readBoolean(p: Problems, key: string, raw: unknown, fallback: boolean, meaning: string): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw === 'boolean') return raw;
  // `-c tracing=false` arrives as a string.
  if (typeof raw === 'string' && /^\s*(true|false)\s*$/i.test(raw)) return raw.trim().toLowerCase() === 'true';
  p.add(`${key}: ${show(raw)} is not true or false (${meaning})`);
  return fallback;
}

/** A JSON value that may arrive as a JSON string (every `-c key=value` does); undefined when it is not valid JSON. */
export function readJson(p: Problems, key: string, raw: unknown, example: string): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (!text.startsWith('[') && !text.startsWith('{')) return raw;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    p.add(`${key}: ${show(raw)} is not valid JSON (expected e.g. ${example})`);
    return undefined;
  }
}

/**
 * A list that may arrive as a JSON array, its JSON, or (from `-c key=a,b`) a comma-separated
 * string, which becomes its trimmed, non-empty items; undefined when it is not valid JSON. The
 * caller checks that the result is an array of what it expects.
 */
export function readList(p: Problems, key: string, raw: unknown, example: string): unknown {
  const value = readJson(p, key, raw, example);
  return typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
    : value;
}

/** A complete Secrets Manager secret ARN, as the console shows it (the random 6-character suffix included). */
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** An optional secret ARN: true when `raw` is absent or a complete ARN, else adds the problem and returns false. */
export function checkSecretArn(p: Problems, key: string, raw: unknown): boolean {
  if (raw === undefined || (typeof raw === 'string' && SECRET_ARN.test(raw))) return true;
  p.add(
    `${key}: ${show(raw)} is not a complete Secrets Manager secret ARN ` +
      '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as the Secrets Manager console shows it)',
  );
  return false;
}
