/** Every string of a JSON value, keys included: what a test searches for a value that must not appear anywhere in it. */
export function jsonStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(jsonStrings);
  if (typeof value === 'object' && value !== null) return [...Object.keys(value), ...Object.values(value).flatMap(jsonStrings)];
  return [];
}
