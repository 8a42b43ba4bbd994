/**
 * The emulator guard's refusals, answered in the guarded service's own error shape (DynamoDB's JSON
 * with a coral type, S3's XML) so the SDK raises a named error with a message that says what to do.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { errorXml, XML_DECLARATION } from '../s3/xml.js';

export type GuardedService = 'dynamodb' | 's3';

/** A refusal: the service's error code and message, and the HTTP status it answers with. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

/** A refusal of one of the kinds in `ServiceCodes`. */
export function refusal(kind: { readonly status: number; readonly code: string }, message: string): Refusal {
  return new Refusal(kind.status, kind.code, message);
}

/** The status and error code a service answers each kind of refusal with. */
export interface ServiceCodes {
  readonly forbidden: { status: number; code: string };
  readonly missingAuth: { status: number; code: string };
  readonly badKey: { status: number; code: string };
  readonly badSignature: { status: number; code: string };
  readonly skewed: { status: number; code: string };
  readonly malformed: string;
  readonly tooLarge: string;
  readonly internal: string;
}

// DynamoDB answers its client errors with 400 and a coral type.
const coral = (name: string) => `com.amazon.coral.service#${name}`;
const DYNAMODB_CODES: ServiceCodes = {
  forbidden: { status: 400, code: coral('AccessDeniedException') },
  missingAuth: { status: 400, code: coral('MissingAuthenticationTokenException') },
  badKey: { status: 400, code: coral('UnrecognizedClientException') },
  badSignature: { status: 400, code: coral('InvalidSignatureException') },
  skewed: { status: 400, code: coral('InvalidSignatureException') },
  malformed: coral('IncompleteSignatureException'),
  tooLarge: coral('RequestEntityTooLargeException'),
  internal: coral('InternalFailure'),
};
const S3_CODES: ServiceCodes = {
  forbidden: { status: 403, code: 'AccessDenied' },
  missingAuth: { status: 403, code: 'AccessDenied' },
  badKey: { status: 403, code: 'InvalidAccessKeyId' },
  badSignature: { status: 403, code: 'SignatureDoesNotMatch' },
  skewed: { status: 403, code: 'RequestTimeTooSkewed' },
  malformed: 'InvalidRequest',
  tooLarge: 'EntityTooLarge',
  internal: 'InternalError',
};

export function serviceCodes(service: GuardedService): ServiceCodes {
  return service === 's3' ? S3_CODES : DYNAMODB_CODES;
}

export function asRefusal(err: unknown, codes: ServiceCodes): Refusal {
  if (err instanceof Refusal) return err;
  // Not the error's text: it could come from anywhere, and the caller is not trusted yet.
  return new Refusal(500, codes.internal, 'the emulator guard failed to check the request');
}

/** Answers `refusal` in the service's error shape; a body not read to its end closes the connection. */
export function answerRefusal(res: ServerResponse, service: GuardedService, refusal: Refusal, bodyConsumed: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { contentType, body } = service === 's3' ? s3Error(refusal) : dynamoDbError(refusal);
  res.statusCode = refusal.status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader(service === 's3' ? 'x-amz-request-id' : 'x-amzn-RequestId', requestId());
  // A refused request's body is not read: close the connection rather than read it to its end.
  if (!bodyConsumed) res.setHeader('Connection', 'close');
  res.end(body);
}

/** Caller-supplied text for a message: printable ASCII, at most 100 characters. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}...` : clean;
}

function dynamoDbError(r: Refusal): { contentType: string; body: string } {
  return { contentType: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: r.code, message: r.message }) };
}

function s3Error(r: Refusal): { contentType: string; body: string } {
  return {
    contentType: 'application/xml',
    body: `${XML_DECLARATION}${errorXml(r)}`,
  };
}

function requestId(): string {
  return createHash('sha256').update(`${process.hrtime.bigint()}:${Math.random()}`).digest('hex').slice(0, 16).toUpperCase();
}
