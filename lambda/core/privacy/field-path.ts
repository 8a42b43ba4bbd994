/**
 * The path syntax of the user-identifying fields (`./user-fields.ts`, docs/privacy.md), and reading
 * the strings a path names out of a parsed payload. A path is dot-separated keys from the root:
 *
 * - `key`: the value of an object's own field `key`;
 * - `key[]`: each item of the list at `key`; a single value where a list is expected is read as a
 *   one-item list, as the catalog reads `channel` (docs/social-plus.md §10.4);
 * - `key[field=value]`: as `key[]`, keeping only the items whose `field` is the string `value`.
 *
 * A path names the strings it ends at: `data.users[].userId` every user's `userId`,
 * `data.userIds[]` every string of that list, `data.posts[targetType=user].targetId` the target of
 * each post on a user's feed. Anything that is not a string there (a number, an object) is ignored.
 */

/** One parsed step of a path. */
export interface PathStep {
  readonly key: string;
  /** `[]` or `[field=value]`: the value is read as a list (of the items matching `where`). */
  readonly each: boolean;
  readonly where?: { readonly field: string; readonly equals: string };
}

const STEP = /^([A-Za-z_$][\w$-]*)(?:\[(?:([A-Za-z_$][\w$-]*)=([\w$.-]+))?\])?$/;

const parsed = new Map<string, readonly PathStep[]>();

/** The steps of a path; throws a RangeError naming the path when it is not in the syntax above. */
export function parseFieldPath(path: string): readonly PathStep[] {
  const hit = parsed.get(path);
  if (hit) return hit;
  // A filter value may hold dots, so split only on the dots outside brackets.
  const parts = path.match(/(?:[^.[\]]+|\[[^\]]*\])+/g) ?? [];
  if (parts.length === 0 || parts.join('.') !== path) throw new RangeError(`field path '${path}' is not a dot-separated list of steps`);
  const steps = parts.map((part) => {
    const m = STEP.exec(part);
    if (!m) throw new RangeError(`field path '${path}' has a step '${part}' that is neither key, key[] nor key[field=value]`);
    const [, key, field, equals] = m as unknown as [string, string, string | undefined, string | undefined];
    const each = part.endsWith(']');
    return field !== undefined && equals !== undefined ? { key, each, where: { field, equals } } : { key, each };
  });
  parsed.set(path, steps);
  return steps;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The values a path reaches in `root` (strings or not), in document order. */
export function valuesAt(root: unknown, path: string): unknown[] {
  let at: unknown[] = [root];
  for (const step of parseFieldPath(path)) {
    const next: unknown[] = [];
    for (const holder of at) {
      // Own fields only: a key such as `__proto__` or `constructor` names nothing inherited.
      if (!isObject(holder) || !Object.hasOwn(holder, step.key)) continue;
      const value = holder[step.key];
      if (value === undefined || value === null) continue;
      if (!step.each) {
        next.push(value);
        continue;
      }
      const items = Array.isArray(value) ? value : [value];
      const where = step.where;
      for (const item of items) {
        if (!where || (isObject(item) && Object.hasOwn(item, where.field) && item[where.field] === where.equals)) next.push(item);
      }
    }
    at = next;
  }
  return at;
}

/** Whether the string `id` is one of the strings `path` names in `root` (exact equality, no substring). */
export function pathHolds(root: unknown, path: string, id: string): boolean {
  return valuesAt(root, path).some((v) => typeof v === 'string' && v === id);
}
