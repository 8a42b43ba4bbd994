/**
 * Factory for the API Gateway REST proxy events the receiver gets, so tests describe only what
 * differs from an ordinary delivery (body, headers, source) instead of pasting whole events.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import { callerIdentity } from '../../local/front-door/proxy-event.js';

export interface ApiGatewayEventOptions {
  /** The body as API Gateway hands it over: text, or base64 when `isBase64Encoded`. */
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** Header names are kept as given, so tests can exercise case handling. */
  readonly headers?: Record<string, string | undefined>;
  /** The `{source}` path parameter; undefined means `POST /webhook`. */
  readonly source?: string;
  readonly requestId?: string;
  /** API Gateway's request time in epoch milliseconds. @default 1751450043221 (2025-07-02T09:54:03.221Z) */
  readonly requestTimeEpoch?: number;
}

/** A fixed instant, so ids and partition keys in tests do not depend on the clock. */
export const DEFAULT_REQUEST_TIME_EPOCH = Date.UTC(2025, 6, 2, 9, 54, 3, 221);

let counter = 0;

/** A `POST /webhook[/{source}]` proxy event as API Gateway (REST) delivers it to the receiver. */
export function apiGatewayEvent(opts: ApiGatewayEventOptions = {}): APIGatewayProxyEvent {
  const headers = opts.headers ?? {};
  const path = opts.source === undefined ? '/webhook' : `/webhook/${opts.source}`;
  const resource = opts.source === undefined ? '/webhook' : '/webhook/{source}';
  const requestId = opts.requestId ?? `req-${++counter}`;
  const headerValues: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) headerValues[k] = v;
  return {
    body: opts.body === undefined ? null : opts.body,
    isBase64Encoded: opts.isBase64Encoded ?? false,
    headers: headerValues,
    multiValueHeaders: Object.fromEntries(Object.entries(headerValues).map(([k, v]) => [k, [v]])),
    httpMethod: 'POST',
    path,
    resource,
    pathParameters: opts.source === undefined ? null : { source: opts.source },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      identity: callerIdentity('52.70.191.115', 'Social-Plus-Webhooks/1.0'),
      path: `/prod${path}`,
      stage: 'prod',
      requestId,
      requestTimeEpoch: opts.requestTimeEpoch ?? DEFAULT_REQUEST_TIME_EPOCH,
      resourceId: 'res123',
      resourcePath: resource,
    },
  };
}

/**
 * A delivery signed the way Social Plus signs it: `x-amity-signature` over the exact bytes of
 * `body`, which travels as text (or base64-flagged when `base64` is set).
 */
export function signedWebhookEvent(
  body: string | Buffer,
  secret: string,
  opts: Omit<ApiGatewayEventOptions, 'body' | 'isBase64Encoded'> & { readonly base64?: boolean } = {},
): APIGatewayProxyEvent {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const { base64, headers, ...rest } = opts;
  return apiGatewayEvent({
    ...rest,
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64 ?? false,
    headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: sign(bytes, secret), ...headers },
  });
}
