import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DEFAULT_SOURCE, lowerCaseHeaders, receiveWebhook, type ReceiveDeps } from '../core/receive.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The receiver's Lambda handler (API Gateway REST proxy event in, response out), built over ports
 * so the AWS entry point and local mode run the same code.
 */
export function createReceiverHandler(deps: ReceiveDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const body = event.body == null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const epoch = event.requestContext?.requestTimeEpoch;
    const res = await receiveWebhook(
      {
        headers: lowerCaseHeaders(event.headers),
        body,
        source: event.pathParameters?.source ?? DEFAULT_SOURCE,
        requestId: event.requestContext?.requestId ?? 'unknown',
        receivedAt: typeof epoch === 'number' && epoch > 0 ? new Date(epoch) : new Date(),
      },
      deps,
    );
    return { statusCode: res.statusCode, headers: JSON_HEADERS, body: res.body };
  };
}
