import { SecretNotConfiguredError } from './errors.js';

/** What a newly created secret holds until the user pastes the Social Plus secret key. */
export const SECRET_PLACEHOLDER = 'REPLACE_WITH_SOCIALPLUS_WEBHOOK_SECRET';

/**
 * The object a secret in its JSON form holds (anything but an object reads as `{}`), or the error
 * `fail` makes of the problem when it does not parse; `forms` names what the secret may hold instead.
 */
export function parseJsonSecret(value: string, forms: string, fail: (problem: string) => Error): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw fail(`the secret looks like JSON but does not parse; use ${forms}`);
  }
  return (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
}

/** A field of a JSON secret, trimmed: '' when it is missing or not a string. */
export function secretField(obj: Record<string, unknown>, key: string): string {
  const value = obj[key];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Reads a stored secret value: the Social Plus secret key as a plain string, or
 * `{"current":"…","previous":"…"}` during a rotation. Returns the acceptable keys, current first.
 */
export function parseSecretValue(source: string, raw: string | undefined): string[] {
  const value = raw?.trim();
  if (!value) throw new SecretNotConfiguredError(source, 'the secret is empty');
  let keys: string[];
  if (value.startsWith('{')) {
    const forms = 'a plain string or {"current":"…","previous":"…"}';
    const obj = parseJsonSecret(value, forms, (problem) => new SecretNotConfiguredError(source, problem));
    const current = secretField(obj, 'current');
    if (current === '') throw new SecretNotConfiguredError(source, 'the JSON secret has no non-empty "current" string');
    keys = [current];
    const previous = secretField(obj, 'previous');
    // A placeholder left in "previous" (the value before the first real key) is simply not a key.
    if (previous !== '' && previous !== current && previous !== SECRET_PLACEHOLDER) keys.push(previous);
  } else {
    keys = [value];
  }
  if (keys[0] === SECRET_PLACEHOLDER)
    throw new SecretNotConfiguredError(source, 'the secret still holds the placeholder; paste the secret key from the Social Plus console');
  return keys;
}
