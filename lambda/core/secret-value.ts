import { SecretNotConfiguredError } from './errors.js';

/** What a newly created secret holds until the user pastes the Social Plus secret key. */
export const SECRET_PLACEHOLDER = 'REPLACE_WITH_SOCIALPLUS_WEBHOOK_SECRET';

/**
 * Reads a stored secret value: the Social Plus secret key as a plain string, or
 * `{"current":"…","previous":"…"}` during a rotation. Returns the acceptable keys, current first.
 */
export function parseSecretValue(source: string, raw: string | undefined): string[] {
  const value = raw?.trim();
  if (!value) throw new SecretNotConfiguredError(source, 'the secret is empty');
  let keys: string[];
  if (value.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SecretNotConfiguredError(source, 'the secret looks like JSON but does not parse; use a plain string or {"current":"…","previous":"…"}');
    }
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const current = typeof obj.current === 'string' ? obj.current.trim() : '';
    if (current === '') throw new SecretNotConfiguredError(source, 'the JSON secret has no non-empty "current" string');
    keys = [current];
    const previous = typeof obj.previous === 'string' ? obj.previous.trim() : '';
    // A placeholder left in "previous" (the value before the first real key) is simply not a key.
    if (previous !== '' && previous !== current && previous !== SECRET_PLACEHOLDER) keys.push(previous);
  } else {
    keys = [value];
  }
  if (keys[0] === SECRET_PLACEHOLDER) throw new SecretNotConfiguredError(source, 'the secret still holds the placeholder; paste the secret key from the Social Plus console');
  return keys;
}
