/** The S3 errors the local S3 emulator answers with: an HTTP status, S3's error code, and details. */
import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';

export class S3Error extends SocialPlusWebhooksError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const badRequest = (code: string, message: string, detail: Record<string, string> = {}) => new S3Error(400, code, message, detail);
export const notImplemented = (op: string) => new S3Error(501, 'NotImplemented', `The local S3 emulator does not implement ${op}.`);
export const noSuchKey = (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
