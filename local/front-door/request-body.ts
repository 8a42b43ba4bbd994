/**
 * The front door's handling of request bodies: read whole within a limit, dropped to keep the
 * connection going, or left unread (the connection then closes); and `Expect: 100-continue`, whose
 * client sends the body only once told to, which the front door does only when it will read it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A request answered from its head alone has its body read and discarded when it declares at most
 * this many bytes, so the connection can serve the next request; a larger body, or one of unknown
 * length, is not read: the answer closes the connection.
 */
export const DRAIN_MAX_BYTES = 64 * 1024;

/** Requests whose client waits for `100 Continue` before sending the body. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** Notes that the client of `req` waits for `100 Continue` before sending its body. */
export function expectsContinue(req: IncomingMessage): void {
  awaitingContinue.add(req);
}

/** Lets a client waiting on `Expect: 100-continue` send its body: only once the body will be read. */
function letBodyCome(req: IncomingMessage, res: ServerResponse): void {
  if (!awaitingContinue.delete(req)) return;
  res.writeContinue();
}

/** Reads and drops the body (as Node does when no `checkContinue` listener is set), so keep-alive goes on. */
export function discard(req: IncomingMessage, res: ServerResponse): void {
  letBodyCome(req, res);
  req.resume();
}

/**
 * Drops a small declared body that the client has already sent, so the connection can carry the
 * next request; returns false (the body left unread) for a larger one, one of unknown length, or
 * one the client has not sent yet (`Expect: 100-continue`).
 */
export function dropIfSmall(req: IncomingMessage): boolean {
  const declared = declaredLength(req);
  const drop = !awaitingContinue.has(req) && declared !== undefined && declared <= DRAIN_MAX_BYTES;
  if (drop) req.resume();
  return drop;
}

/** The declared `content-length`, or undefined when there is none (chunked) or it is not a length. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header !== undefined) return /^\d+$/.test(header) ? Number(header) : undefined;
  // Neither header: the request has no body at all.
  return req.headers['transfer-encoding'] === undefined ? 0 : undefined;
}

/**
 * Reads the whole body, or stops at `max` bytes (declared or received) and reports it too large: a
 * body declared too large is not read (the answer closes the connection).
 */
export function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | 'too-large'> {
  if ((declaredLength(req) ?? 0) > max) return Promise.resolve('too-large');
  letBodyCome(req, res);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}
