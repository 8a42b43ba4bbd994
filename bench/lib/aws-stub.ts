/**
 * A loopback stand-in for the four AWS JSON-protocol APIs the functions call on their first event
 * (SQS `SendMessage`, Secrets Manager `GetSecretValue`, DynamoDB `PutItem`/`UpdateItem`/`GetItem`,
 * Firehose `PutRecordBatch`), so a cold-start benchmark can time a function's first invocation
 * with the SDK's real request path (credential resolution, signing, HTTP) and no network. Point a
 * process at it with `AWS_ENDPOINT_URL`. It answers what the SDK needs to accept the response
 * (SQS's body MD5, for instance) and counts calls by operation.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsStub {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Calls answered so far, by `x-amz-target` (e.g. `AmazonSQS.SendMessage`). */
  readonly calls: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

type Answer = (input: Record<string, unknown>) => unknown;

/** Starts the stub; `secretString` is what `GetSecretValue` returns for any secret. */
export async function startAwsStub(opts: { secretString: string }): Promise<AwsStub> {
  const calls = new Map<string, number>();
  const answers: Record<string, Answer> = {
    'AmazonSQS.SendMessage': (input) => ({
      MessageId: randomUUID(),
      // The SDK checks the body's MD5 and rejects the response without it.
      MD5OfMessageBody: createHash('md5')
        .update(String(input.MessageBody ?? ''))
        .digest('hex'),
    }),
    'secretsmanager.GetSecretValue': (input) => ({
      ARN: String(input.SecretId ?? ''),
      Name: 'bench',
      SecretString: opts.secretString,
      VersionId: '00000000-0000-0000-0000-000000000000',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_751_450_000,
    }),
    'DynamoDB_20120810.PutItem': () => ({}),
    'DynamoDB_20120810.UpdateItem': () => ({}),
    'DynamoDB_20120810.GetItem': () => ({}),
    'Firehose_20150804.PutRecordBatch': (input) => ({
      FailedPutCount: 0,
      Encrypted: false,
      RequestResponses: (Array.isArray(input.Records) ? input.Records : []).map(() => ({ RecordId: randomUUID() })),
    }),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const answer = answers[target];
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      if (!answer) {
        reply(400, {
          __type: 'UnknownOperationException',
          message: `the benchmark's AWS stub does not answer '${target || `${req.method} ${req.url}`}'`,
        });
        return;
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        reply(400, { __type: 'SerializationException', message: 'request body is not JSON' });
        return;
      }
      calls.set(target, (calls.get(target) ?? 0) + 1);
      reply(200, answer(input));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
