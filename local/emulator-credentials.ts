/**
 * This installation's credentials for local mode's emulators (`.local/emulator-credentials.json`,
 * owner-only). The emulators' guard (`emulator-guard.ts`) accepts only requests signed with them, so
 * a well-known key pair (s3rver's `S3RVER`/`S3RVER`) no longer opens the event store and the archive
 * to every program and web page on the machine.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, stat } from 'node:fs/promises';
import { SocialPlusWebhooksError } from '../lambda/core/errors.js';
import { parseJsonObject } from './json-object.js';
import { loadOrCreatePrivateFile, readPrivateFileText } from './private-file.js';

export interface EmulatorCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Thrown when the credentials file exists but cannot be used. */
export class EmulatorCredentialsError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorCredentialsError';
  }
}

const KEY_ID_PREFIX = 'LOCAL';
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** What a key id or secret may look like: SigV4 puts the key id in `Credential=<id>/<scope>`, so no `/`, `,`, `=` or spaces. */
const KEY_ID = /^[A-Za-z0-9]{16,128}$/;
const SECRET = /^[A-Za-z0-9_\-+/=]{20,128}$/;

/** Fresh credentials: `LOCAL` + 16 upper-case alphanumerics, and a 40-character base64url secret (240 bits). */
export function generateEmulatorCredentials(): EmulatorCredentials {
  let suffix = '';
  for (let i = 0; i < 16; i++) suffix += KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)];
  return { accessKeyId: `${KEY_ID_PREFIX}${suffix}`, secretAccessKey: randomBytes(30).toString('base64url') };
}

/**
 * Reads the credentials from `file`, or creates it with fresh ones (mode 0600). The new file appears
 * complete or not at all (written under a temporary name, then hard-linked into place, which fails if
 * the name exists), so a concurrent creator's credentials win and are read back rather than
 * overwritten or read half-written. A file whose mode lets others read it is made owner-only.
 */
export function loadOrCreateEmulatorCredentials(file: string): Promise<EmulatorCredentials> {
  return loadOrCreatePrivateFile(file, readCredentialsFile, () => {
    const value = generateEmulatorCredentials();
    return { value, text: `${JSON.stringify(value, null, 2)}\n` };
  });
}

async function readCredentialsFile(file: string): Promise<EmulatorCredentials | undefined> {
  const text = await readPrivateFileText(
    file,
    (reason) => new EmulatorCredentialsError(`cannot read the emulator credentials file ${file}: ${reason}`),
  );
  if (text === undefined) return undefined;
  const credentials = parseCredentials(text);
  if (!credentials) {
    // The content is never echoed: it may hold a secret.
    throw new EmulatorCredentialsError(
      `the emulator credentials file ${file} is malformed: it must be JSON {"accessKeyId": "...", "secretAccessKey": "..."} ` +
        '(key id: 16-128 letters and digits; secret: 20-128 base64 characters). Delete it to generate new credentials.',
    );
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
  return credentials;
}

function parseCredentials(text: string): EmulatorCredentials | undefined {
  const value = parseJsonObject(text);
  if (!value) return undefined;
  const { accessKeyId, secretAccessKey } = value;
  if (typeof accessKeyId !== 'string' || !KEY_ID.test(accessKeyId)) return undefined;
  if (typeof secretAccessKey !== 'string' || !SECRET.test(secretAccessKey)) return undefined;
  return { accessKeyId, secretAccessKey };
}
