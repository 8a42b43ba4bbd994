/**
 * The emulator guard's reading of a DynamoDB request body, which it must hash to check the
 * signature, and its replay to the emulator behind it.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';

/** The body is larger than the limit (declared or received). */
export class BodyTooLarge extends SocialPlusWebhooksError {
  constructor() {
    super('the request body is larger than the limit');
    this.name = 'BodyTooLarge';
  }
}

/** The client went away before the body ended. */
export class BodyAborted extends SocialPlusWebhooksError {
  constructor() {
    super('the client went away before the request body ended');
    this.name = 'BodyAborted';
  }
}

/** Reads the whole body, refusing more than `max` bytes (before reading any, when Content-Length says so). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        finish(() => reject(new BodyTooLarge()));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks, size)));
    const onError = () => finish(() => reject(new BodyAborted()));
    const onAborted = () => finish(() => reject(new BodyAborted()));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/**
 * A request that yields `body` again, for a listener that reads it with `on('data')`/`on('end')`
 * (dynalite does) after the guard has read and hashed it. Headers, method and URL are the original's.
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new PassThrough();
  Object.assign(replay, {
    headers: req.headers,
    headersDistinct: req.headersDistinct,
    rawHeaders: req.rawHeaders,
    trailers: req.trailers,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
    complete: true,
    aborted: false,
  });
  replay.end(body);
  return replay as unknown as IncomingMessage;
}
