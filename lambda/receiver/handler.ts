import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lowerCaseHeaders } from '../core/precheck.js';
import { receiveWebhook, type ReceiveDeps } from '../core/receive.js';
import { SIGNATURE_HEADER } from '../core/signature.js';
import { DEFAULT_SOURCE } from '../core/sources.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The receiver's Lambda handler (API Gateway REST proxy event in, response out), built over ports
 * so the AWS entry point and local mode run the same code.
 */
export function createReceiverHandler(deps: ReceiveDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const body = event.body == null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    // A text body is what its bytes decode to, unless it holds lone surrogates (which encode as
    // U+FFFD): hand it on so the core need not decode the bytes again.
    const bodyText = event.body != null && !event.isBase64Encoded && isWellFormed(event.body) ? event.body : undefined;
    const epoch = event.requestContext?.requestTimeEpoch;
    const res = await receiveWebhook(
      {
        headers: lowerCaseHeaders(event.headers),
        body,
        ...(bodyText === undefined ? {} : { bodyText }),
        source: event.pathParameters?.source ?? DEFAULT_SOURCE,
        signatureHeaderCount: headerLines(event, SIGNATURE_HEADER),
        requestId: event.requestContext?.requestId ?? 'unknown',
        receivedAt: typeof epoch === 'number' && epoch > 0 ? new Date(epoch) : new Date(),
      },
      deps,
    );
    return { statusCode: res.statusCode, headers: JSON_HEADERS, body: res.body };
  };
}

/** How many lines of header `name` (lower case) the request had, in any case: `multiValueHeaders` keeps them all. */
function headerLines(event: APIGatewayProxyEvent, name: string): number {
  const multi = event.multiValueHeaders ?? {};
  let n = 0;
  for (const [k, values] of Object.entries(multi)) if (k.toLowerCase() === name) n += values?.length ?? 0;
  if (n > 0) return n;
  // Without multiValueHeaders (a hand-built event), the single-valued map is all there is.
  return Object.keys(event.headers ?? {}).filter((k) => k.toLowerCase() === name).length;
}

/** `String.prototype.isWellFormed` (Node 20+), typed here because the project's lib is ES2023. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}
