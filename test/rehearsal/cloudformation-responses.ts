/**
 * CloudFormation's side of a custom resource, for the deploy rehearsal: the presigned S3 URL a
 * request carries as its `ResponseURL` (CloudFormation's response bucket, path `<stack id>|<logical
 * id>|<request id>`, SigV4 query string), served on loopback, recording every request the function
 * sends there. Only a PUT to a URL it handed out is answered 200, as S3 would; anything else 403.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request to a response URL, as the stand-in received it. */
export interface ResponseUrlRequest {
  readonly method: string;
  /** Path and query, exactly as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: Record<string, unknown>;
  /** What the stand-in answered. */
  readonly status: number;
}

/** The running stand-in. */
export interface ResponseBucket {
  /** A presigned PUT URL for one request of one custom resource of a stack. */
  urlFor(request: { readonly stackId: string; readonly logicalResourceId: string; readonly requestId: string }): string;
  /** Every request received, in order. */
  readonly requests: readonly ResponseUrlRequest[];
  /** The requests sent to the URL handed out for a request id. */
  requestsFor(requestId: string): ResponseUrlRequest[];
  close(): Promise<void>;
}

/** Starts the stand-in on loopback (port 0); `region` names the bucket as CloudFormation does. */
export async function startResponseBucket(region: string): Promise<ResponseBucket> {
  const bucket = `cloudformation-custom-resource-response-${region.replace(/-/g, '')}`;
  /** Handed-out path and query → request id. */
  const issued = new Map<string, string>();
  const requests: ResponseUrlRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      const ok = req.method === 'PUT' && issued.has(url);
      let json: Record<string, unknown> | undefined;
      try {
        const parsed = JSON.parse(body) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const status = ok ? 200 : 403;
      requests.push({ method: req.method ?? 'GET', url, headers: req.headers, body, ...(json === undefined ? {} : { json }), status });
      if (ok) {
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'content-length': 0 }).end();
      } else {
        const xml =
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>';
        res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urlFor({ stackId, logicalResourceId, requestId }) {
      const key = encodeURIComponent(`${stackId}|${logicalResourceId}|${requestId}`);
      const signature = createHash('sha256').update(key).digest('hex');
      const query = new URLSearchParams({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Date': '20250702T095403Z',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Expires': '7200',
        'X-Amz-Credential': `AKIAIOSFODNN7EXAMPLE/20250702/${region}/s3/aws4_request`,
        'X-Amz-Signature': signature,
      });
      const pathAndQuery = `/${bucket}/${key}?${query.toString()}`;
      issued.set(pathAndQuery, requestId);
      return `http://127.0.0.1:${port}${pathAndQuery}`;
    },
    requests,
    requestsFor: (requestId) => requests.filter((r) => issued.get(r.url) === requestId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
