import { describe, expect, it } from 'vitest';
import { SecretNotConfiguredError } from '../../lambda/core/errors.js';
import { parseSecretValue, SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';

describe('parseSecretValue', () => {
  it.each([
    ['a plain string', 'sp-secret-1', ['sp-secret-1']],
    ['a plain string with a pasted newline', 'sp-secret-1\n', ['sp-secret-1']],
    ['a plain string with surrounding spaces', '  sp-secret-1  ', ['sp-secret-1']],
    ['a plain string with inner spaces', 'a b c', ['a b c']],
    ['a plain string that looks like an array', '["x"]', ['["x"]']],
    ['JSON with current only', '{"current":"new"}', ['new']],
    ['JSON with current and previous', '{"current":"new","previous":"old"}', ['new', 'old']],
    ['JSON with whitespace around the keys', '{"current":" new ","previous":"old\\n"}', ['new', 'old']],
    ['JSON with previous equal to current', '{"current":"same","previous":"same"}', ['same']],
    ['JSON with an empty previous', '{"current":"new","previous":""}', ['new']],
    ['JSON with a non-string previous', '{"current":"new","previous":7}', ['new']],
    ['JSON with the placeholder left in previous', `{"current":"new","previous":"${SECRET_PLACEHOLDER}"}`, ['new']],
    ['pretty-printed JSON', '{\n  "current": "new",\n  "previous": "old"\n}\n', ['new', 'old']],
    ['unicode', '{"current":"ключ-🔑"}', ['ключ-🔑']],
  ])('%s → %j', (_label, raw, keys) => {
    expect(parseSecretValue('default', raw)).toEqual(keys);
  });

  it.each([
    ['undefined (no SecretString)', undefined, 'the secret is empty'],
    ['empty', '', 'the secret is empty'],
    ['only whitespace', ' \n\t', 'the secret is empty'],
    ['the placeholder', SECRET_PLACEHOLDER, 'still holds the placeholder'],
    ['the placeholder with a newline', `${SECRET_PLACEHOLDER}\n`, 'still holds the placeholder'],
    ['the placeholder as current', `{"current":"${SECRET_PLACEHOLDER}","previous":"old"}`, 'still holds the placeholder'],
    ['broken JSON', '{"current":"x"', 'looks like JSON but does not parse'],
    ['JSON without current', '{"previous":"old"}', 'no non-empty "current" string'],
    ['JSON with an empty current', '{"current":"  "}', 'no non-empty "current" string'],
    ['JSON with a non-string current', '{"current":12345}', 'no non-empty "current" string'],
    ['the wrong key name', '{"secret":"x"}', 'no non-empty "current" string'],
  ])('%s → SecretNotConfiguredError naming the source and the problem', (_label, raw, message) => {
    let caught: unknown;
    try {
      parseSecretValue('eu-app', raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SecretNotConfiguredError);
    const err = caught as SecretNotConfiguredError;
    expect(err.name).toBe('SecretNotConfiguredError');
    expect(err.source).toBe('eu-app');
    expect(err.message).toContain("source 'eu-app'");
    expect(err.message).toContain(message);
  });

  it('never puts the secret value in the error message', () => {
    const raw = '{"current":"top-secret-value","previous":';
    expect(() => parseSecretValue('default', raw)).toThrow(SecretNotConfiguredError);
    try {
      parseSecretValue('default', raw);
    } catch (err) {
      expect((err as Error).message).not.toContain('top-secret-value');
    }
  });
});
