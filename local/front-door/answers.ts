/** The front door's own answers: JSON bodies, 405s, and answers given before the body is read. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discard, dropIfSmall } from './request-body.js';

/** An answer given from the head alone; `headers` default to `content-type: application/json`. */
export interface EarlyAnswer {
  readonly statusCode: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_TYPE = { 'content-type': 'application/json' };

export function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_TYPE, ...extra });
  res.end(JSON.stringify(body));
}

/** Sends a JSON answer to a request whose body, if any, is dropped unread. */
export function discardAndSend(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  discard(req, res);
  send(res, status, body, extra);
}

export function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  discardAndSend(
    req,
    res,
    405,
    { message: `method ${req.method} not allowed on ${new URL(req.url ?? '/', 'http://local').pathname}: use ${allow}` },
    { allow },
  );
}

/**
 * Answers from the head alone. A small declared body is read and dropped so the connection can
 * carry the next request; a larger one, one of unknown length, or one the client has not sent yet
 * (`Expect: 100-continue`) is left unread and the connection closed after the answer.
 */
export function answerUnread(req: IncomingMessage, res: ServerResponse, answer: EarlyAnswer): void {
  const dropped = dropIfSmall(req);
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.statusCode, {
    ...(answer.headers ?? JSON_TYPE),
    'content-length': String(body.length),
    ...(dropped ? {} : { connection: 'close' }),
  });
  res.end(body);
}
