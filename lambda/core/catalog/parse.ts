/**
 * Reads a payload through the catalog. The schemas are loose, so a payload fails only where a field
 * has the wrong type (a number where a string is documented, an object where a list is). Such a
 * payload still reaches its handlers: the offending values are left out, so what the handler gets
 * matches its type, and the issues are returned for one WARN per event. Nothing is ever dropped;
 * the exact body stays in the store and the archive.
 */
import type { z } from 'zod';
import { schemaFor } from './events.js';

/** One place where a payload differs from its schema: a path, never the value (it may be personal data). */
export interface CatalogIssue {
  /** Dotted path into the payload, e.g. `data.messages.0.userId`. */
  readonly path: string;
  /** zod's issue code, e.g. `invalid_type`. */
  readonly code: string;
  /** What the schema expected there, when zod says. */
  readonly expected?: string;
}

/** The outcome of {@link readTypedPayload}. */
export interface TypedPayloadResult {
  /** The payload as handlers get it: parsed (a copy), or the input itself when no schema applies. */
  readonly payload: unknown;
  /** Whether a catalog schema applied (the event's own or its family's). */
  readonly typed: boolean;
  /** Where the payload differed from the schema; those values are left out of `payload`. Empty when it matched. */
  readonly issues: readonly CatalogIssue[];
}

const MAX_REPAIR_ROUNDS = 5;
const MAX_REPORTED_ISSUES = 20;

const cache = new WeakMap<object, { eventType: string; result: TypedPayloadResult }>();

/**
 * Parses `payload` with the schema of `eventType` (the routing name). The result is memoised per
 * payload object, so several handlers of one event parse it once (and its issues are reported once).
 */
export function readTypedPayload(eventType: string, payload: unknown): TypedPayloadResult {
  if (typeof payload !== 'object' || payload === null) return { payload, typed: false, issues: [] };
  const hit = cache.get(payload);
  if (hit && hit.eventType === eventType) return hit.result;
  const result = parseWithRepair(eventType, payload);
  cache.set(payload, { eventType, result });
  return result;
}

/** Whether {@link readTypedPayload} has already read this payload object (its issues were reported). */
export function wasRead(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && cache.has(payload);
}

function parseWithRepair(eventType: string, payload: object): TypedPayloadResult {
  const schema = schemaFor(eventType);
  if (!schema) return { payload, typed: false, issues: [] };
  let attempt = schema.safeParse(payload);
  if (attempt.success) return { payload: attempt.data, typed: true, issues: [] };

  const issues: CatalogIssue[] = [];
  let working: unknown = structuredClone(payload);
  for (let round = 0; round < MAX_REPAIR_ROUNDS && !attempt.success; round++) {
    for (const issue of attempt.error.issues) {
      if (issues.length < MAX_REPORTED_ISSUES) issues.push(describe(issue));
    }
    working = removeOffendingValues(working, attempt.error.issues);
    attempt = schema.safeParse(working);
  }
  // Only a payload that is not an object at all could still fail; the envelope parser never routes one here.
  return attempt.success ? { payload: attempt.data, typed: true, issues } : { payload, typed: false, issues };
}

function describe(issue: z.core.$ZodIssue): CatalogIssue {
  const expected = 'expected' in issue && typeof issue.expected === 'string' ? { expected: issue.expected } : {};
  return { path: issue.path.map(String).join('.'), code: issue.code, ...expected };
}

type Container = Record<PropertyKey, unknown> | unknown[];

/**
 * Leaves out the value at each issue's path: a list item is removed from its list, an object field
 * is deleted (so it reads as absent, which every optional field allows); a bad `data` becomes `{}`.
 */
function removeOffendingValues(root: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const paths = issues.map((i) => i.path).filter((p) => p.length > 0);
  // Deepest and highest list index first, so removing one item never shifts another's index.
  paths.sort((a, b) => comparePathsDescending(a, b));
  for (const path of paths) {
    const key = path[path.length - 1] as PropertyKey;
    const parent = walk(root, path.slice(0, -1), key);
    if (parent === undefined) continue;
    if (Array.isArray(parent) && typeof key === 'number') {
      if (key < parent.length) parent.splice(key, 1);
    } else if (path.length === 1 && key === 'data') {
      (parent as Record<PropertyKey, unknown>).data = {};
    } else {
      delete (parent as Record<PropertyKey, unknown>)[key];
    }
  }
  return root;
}

/**
 * The container at `path`. A single object where the path indexes a list is wrapped into a list in
 * place, as the schema's own reading does (see `entities`), so issue paths line up with the copy.
 */
function walk(root: unknown, path: readonly PropertyKey[], finalKey: PropertyKey): Container | undefined {
  let holder: Record<PropertyKey, unknown> | undefined;
  let holderKey: PropertyKey | undefined;
  let at: unknown = root;
  for (let i = 0; i <= path.length; i++) {
    const key = i < path.length ? path[i] : finalKey;
    if (typeof key === 'number' && isPlainObject(at) && holder !== undefined && holderKey !== undefined) {
      at = [at];
      holder[holderKey] = at;
    }
    if (i === path.length) break;
    if (typeof at !== 'object' || at === null) return undefined;
    holder = at as Record<PropertyKey, unknown>;
    holderKey = key as PropertyKey;
    at = holder[holderKey];
  }
  return typeof at === 'object' && at !== null ? (at as Container) : undefined;
}

function isPlainObject(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function comparePathsDescending(a: readonly PropertyKey[], b: readonly PropertyKey[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return y - x;
    return String(y).localeCompare(String(x));
  }
  return b.length - a.length;
}
