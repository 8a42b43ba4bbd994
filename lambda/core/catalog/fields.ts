/**
 * The field types the entity and event schemas are built of (docs/social-plus.md §6): every field
 * optional and nullable, every array also read from a single object.
 */
import { z } from 'zod';

/** An optional, nullable field: missing, null or of the given type. */
export const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

export const str = opt(z.string());
export const num = opt(z.number());
export const bool = opt(z.boolean());
export const strings = opt(z.array(z.string()));
/** Free-form JSON object (`metadata`, `data` of custom types). */
export const record = opt(z.record(z.string(), z.unknown()));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An array of entities. A single object where an array is documented is read as a one-item array:
 * an older documented sample sends `channel` as an object (docs/social-plus.md §10.4).
 */
export const entities = <T extends z.ZodType>(item: T) => opt(z.preprocess((value) => (isPlainObject(value) ? [value] : value), z.array(item)));
