/**
 * What the receiver sees of a webhook request, as API Gateway (REST, proxy integration) gives it:
 * the proxy event (raw body bytes, base64-flagged when not UTF-8; headers; path parameter; request
 * id and time), and the head its precheck sees before the body is read.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent } from 'aws-lambda';
import { DEFAULT_SOURCE } from '../../lambda/core/sources.js';
import { SIGNATURE_HEADER } from '../../lambda/core/signature.js';
import { declaredLength } from './request-body.js';

/** A webhook request's head: what the front door knows of it before reading the body. */
export interface WebhookRequestHead {
  /** Always `POST`: other methods are answered 405 before. */
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The path's source segment, percent-decoded (as API Gateway's path parameter), or `default` for `POST /webhook`; not yet checked. */
  readonly source: string;
  /** Header names in lower case, each with the value the receiver's handler would see (API Gateway keeps a name's last line). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** How many `x-amity-signature` lines the request carried, in any letter case. */
  readonly signatureHeaderCount: number;
  /** Node's `rawHeaders`: names in the case sent, repeats kept. */
  readonly rawHeaders: readonly string[];
  /** The id the request gets (its proxy event's `requestContext.requestId` when it goes on). */
  readonly requestId: string;
  /** The declared `content-length`, when there is one. */
  readonly bodyBytes?: number;
}

/** The header lines as sent, `[name, value]` in order, repeats kept. */
function headerLines(req: IncomingMessage): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  return lines;
}

/** What the precheck sees of a webhook request; `headers` as the receiver's handler would lower-case them. */
export function headOf(req: IncomingMessage, path: string, source: string | undefined, requestId: string): WebhookRequestHead {
  // API Gateway keeps the last line of each name as sent; the handler then keeps the first name of
  // those that differ in case only (`lowerCaseHeaders`).
  const asSent: Record<string, string> = {};
  let signatureHeaderCount = 0;
  for (const [name, value] of headerLines(req)) {
    asSent[name] = value;
    if (name.toLowerCase() === SIGNATURE_HEADER) signatureHeaderCount++;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(asSent)) {
    const lower = name.toLowerCase();
    if (headers[lower] === undefined) headers[lower] = value;
  }
  const declared = declaredLength(req);
  return {
    method: req.method ?? 'POST',
    path,
    source: source ?? DEFAULT_SOURCE,
    headers,
    signatureHeaderCount,
    rawHeaders: req.rawHeaders,
    requestId,
    ...(declared === undefined ? {} : { bodyBytes: declared }),
  };
}

/** The API Gateway REST proxy event for a webhook request, as the receiver gets it on AWS. */
export function toProxyEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  source: string | undefined,
  requestId: string = randomUUID(),
): APIGatewayProxyEvent {
  // API Gateway keeps the header names as sent; `headers` holds the last value of a repeated one.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of headerLines(req)) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  const text = body.length > 0 && isUtf8(body);
  const resourcePath = source === undefined ? '/webhook' : '/webhook/{source}';
  const requestTimeEpoch = Date.now();
  return {
    resource: resourcePath,
    path: url.pathname,
    httpMethod: 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: source === undefined ? null : { source },
    stageVariables: null,
    body: body.length === 0 ? null : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: 'POST',
      identity: callerIdentity(req.socket.remoteAddress ?? '127.0.0.1', req.headers['user-agent'] ?? null),
      path: `/local${url.pathname}`,
      stage: 'local',
      requestId,
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath,
    },
  };
}

/** `requestContext.identity` of an unauthenticated call (no API key, IAM or Cognito caller): only its address and user agent. */
export function callerIdentity(sourceIp: string, userAgent: string | null): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}
