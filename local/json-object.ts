/**
 * Reading small JSON records (a journal line, an archive line, a credentials file, an object's
 * metadata) whose fields the caller then checks one by one.
 */

/** The object `text` holds as JSON, or `undefined` when it is not JSON or not an object (`null` and arrays included). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
