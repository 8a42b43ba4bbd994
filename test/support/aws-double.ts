/**
 * A recording stand-in for AWS's HTTP endpoints, for the services no emulator here covers. It is a
 * real HTTP server on loopback: point a real SDK client at it (`endpoint`, or the SDK's own
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables) and the SDK's serializers,
 * deserializers, retries and exception classes all run, against answers written in AWS's own wire
 * format (recorded answers: JSON for the JSON protocols, XML for the query protocol).
 *
 * Each request is recorded as `{ service, operation, input }`: the service is the signing name
 * from the SigV4 credential scope (`sts`, `sqs`, `apigateway`, …), the operation comes from
 * `X-Amz-Target` (JSON protocols), `Action=` (query protocol) or the method and path (REST
 * protocols, given as `GET /account`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** One request as the double saw it. */
export interface AwsCall {
  /** SigV4 signing name, e.g. `sts`, `cloudformation`, `apigateway`, `lambda`, `secretsmanager`. */
  readonly service: string;
  /** `GetCallerIdentity`, `DescribeStacks`, … or, for REST protocols, `GET /account`. */
  readonly operation: string;
  /** JSON body (JSON protocols), the form fields (query protocol), else `{}`. */
  readonly input: Record<string, unknown>;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The raw request body. */
  readonly body: Buffer;
}

/** An answer in AWS's wire format. */
export interface AwsAnswer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Text, or bytes as they are (an S3 object's gzip body). */
  readonly body?: string | Uint8Array;
}

/** What the double answers a call with: an answer, or a function of the call; undefined falls through. */
export type AwsResponder = AwsAnswer | ((call: AwsCall) => AwsAnswer | undefined);

/** Answers by `service:operation` (e.g. `sts:GetCallerIdentity`, `apigateway:GET /account`). */
export type AwsAnswers = Readonly<Record<string, AwsResponder>>;

const REQUEST_ID = '00000000-0000-4000-8000-000000000000';

/** A JSON-protocol success (`awsJson1_0`, `awsJson1_1`, REST-JSON). */
export function jsonAnswer(body: unknown, status = 200): AwsAnswer {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': REQUEST_ID }, body: JSON.stringify(body) };
}

/** A JSON-protocol error, as AWS sends it (`__type` and `x-amzn-errortype`). */
export function jsonError(type: string, message: string, status = 400): AwsAnswer {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': REQUEST_ID },
    body: JSON.stringify({ __type: type, message }),
  };
}

/** What tells one JSON service's errors from another's on the wire (see {@link jsonServiceError}). */
export interface JsonErrorShape {
  /** @default 400 */
  readonly status?: number;
  /** `1.0` for the `awsJson1_0` services (DynamoDB, SQS), `1.1` for `awsJson1_1` (Firehose, Secrets Manager, Athena). @default '1.1' */
  readonly jsonVersion?: '1.0' | '1.1';
  /** Whether the service also names the error in an `x-amzn-errortype` header; many send only `__type`. @default false */
  readonly typeHeader?: boolean;
  /** The member holding the message: `message`, or `Message` as DynamoDB writes it beside an `Item`. @default 'message' */
  readonly messageKey?: 'message' | 'Message';
  /** Members of the error besides its message: DynamoDB's `Item` on a failed condition, its `ThrottlingReasons`. */
  readonly members?: Readonly<Record<string, unknown>>;
  /** SQS's `x-amzn-query-error` header, `<query-protocol code>;Sender`, from which the SDK names the error. */
  readonly queryError?: string;
}

/**
 * A JSON-protocol error in a given service's own shape: `__type` (with the service's namespace
 * where it sends one, `com.amazonaws.dynamodb.v20120810#…`), the message, any further members,
 * and only the headers that service sends.
 */
export function jsonServiceError(type: string, message: string, shape: JsonErrorShape = {}): AwsAnswer {
  return {
    status: shape.status ?? 400,
    headers: {
      'content-type': `application/x-amz-json-${shape.jsonVersion ?? '1.1'}`,
      'x-amzn-requestid': REQUEST_ID,
      ...(shape.typeHeader ? { 'x-amzn-errortype': type } : {}),
      ...(shape.queryError !== undefined ? { 'x-amzn-query-error': shape.queryError } : {}),
    },
    body: JSON.stringify({ __type: type, [shape.messageKey ?? 'message']: message, ...shape.members }),
  };
}

/** A JSON-protocol success with the content type of `awsJson1_0` (DynamoDB, SQS) or `awsJson1_1`. */
export function jsonServiceAnswer(body: unknown, jsonVersion: '1.0' | '1.1' = '1.1'): AwsAnswer {
  return {
    status: 200,
    headers: { 'content-type': `application/x-amz-json-${jsonVersion}`, 'x-amzn-requestid': REQUEST_ID },
    body: JSON.stringify(body),
  };
}

/** A query-protocol success: `<{Op}Response><{Op}Result>…</{Op}Result></{Op}Response>`. */
export function queryAnswer(operation: string, resultXml: string, namespace = 'https://aws.amazon.com/doc/'): AwsAnswer {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body:
      `<${operation}Response xmlns="${namespace}"><${operation}Result>${resultXml}</${operation}Result>` +
      `<ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></${operation}Response>`,
  };
}

/** A query-protocol error. */
export function queryError(code: string, message: string, status = 400): AwsAnswer {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>` +
      `<RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`,
  };
}

/** Escapes text for an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function serviceOf(headers: IncomingMessage['headers']): string {
  const auth = String(headers.authorization ?? '');
  // Credential=AKID/20261202/us-east-1/sts/aws4_request
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  return scope?.[1] ?? 'unsigned';
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parse(req: IncomingMessage, body: Buffer): Omit<AwsCall, 'service'> {
  const url = new URL(req.url ?? '/', 'http://double');
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]));
  const target = headers['x-amz-target'];
  const text = body.toString('utf8');
  const contentType = headers['content-type'] ?? '';
  if (target) {
    const operation = target.slice(target.lastIndexOf('.') + 1);
    return { operation, input: parseJson(text), method: req.method ?? 'GET', path: url.pathname, headers, body };
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(text));
    return { operation: form.Action ?? 'Unknown', input: form, method: req.method ?? 'POST', path: url.pathname, headers, body };
  }
  const input = contentType.includes('json') ? parseJson(text) : {};
  for (const [k, v] of url.searchParams) input[k] = v;
  return { operation: `${req.method ?? 'GET'} ${url.pathname}`, input, method: req.method ?? 'GET', path: url.pathname, headers, body };
}

/** A running double: its endpoint, the calls it saw, and answers that can change between steps. */
export interface AwsDouble {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly calls: AwsCall[];
  /** Replaces or adds answers. */
  answer(more: AwsAnswers): void;
  /** The calls made to one `service:operation`. */
  callsTo(key: string): AwsCall[];
  /** Keeps the next call to one `service:operation` unanswered until the test releases it. */
  hold(key: string): HeldCall;
  close(): Promise<void>;
}

/** A call the double keeps unanswered (see {@link AwsDouble.hold}). */
export interface HeldCall {
  /** Resolves with the call once it arrives. */
  readonly arrived: Promise<AwsCall>;
  /** Resolves when the client closes the connection before any answer: the request was abandoned (aborted). */
  readonly abandoned: Promise<void>;
  /** Answers the held call: with `answer`, else as the double's answers say. */
  release(answer?: AwsAnswer): void;
}

/**
 * Starts the double. A call with no answer gets a 400 `UnknownOperationException` naming it, so a
 * test that forgot one fails with the name of what was asked.
 */
export async function startAwsDouble(initial: AwsAnswers = {}): Promise<AwsDouble> {
  const answers = new Map<string, AwsResponder>(Object.entries(initial));
  const calls: AwsCall[] = [];
  /** Per `service:operation`, the holds waiting for its next calls, first first. */
  const holds = new Map<string, Array<(call: AwsCall, res: ServerResponse, answerOf: () => AwsAnswer) => void>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call: AwsCall = { service: serviceOf(req.headers), ...parse(req, Buffer.concat(chunks)) };
      calls.push(call);
      const key = `${call.service}:${call.operation}`;
      const answerOf = (): AwsAnswer => {
        const responder = answers.get(key);
        let answer: AwsAnswer | undefined;
        try {
          answer = typeof responder === 'function' ? responder(call) : responder;
        } catch (err) {
          answer = jsonError('InternalFailure', `the test's answer for ${key} threw: ${(err as Error).message}`, 500);
        }
        return answer ?? jsonError('UnknownOperationException', `the AWS double has no answer for ${key}`);
      };
      const held = holds.get(key)?.shift();
      if (held) held(call, res, answerOf);
      else write(res, answerOf());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    answer(more) {
      for (const [k, v] of Object.entries(more)) answers.set(k, v);
    },
    callsTo: (key) => calls.filter((c) => `${c.service}:${c.operation}` === key),
    hold(key) {
      let arrive!: (call: AwsCall) => void;
      let abandon!: () => void;
      const arrived = new Promise<AwsCall>((resolve) => (arrive = resolve));
      const abandoned = new Promise<void>((resolve) => (abandon = resolve));
      let release: ((answer?: AwsAnswer) => void) | undefined;
      let released: { answer?: AwsAnswer } | undefined;
      const queue = holds.get(key) ?? [];
      holds.set(key, queue);
      queue.push((call, res, answerOf) => {
        res.on('close', () => {
          if (!res.writableFinished) abandon();
        });
        release = (answer) => {
          if (!res.destroyed) write(res, answer ?? answerOf());
        };
        arrive(call);
        if (released) release(released.answer);
      });
      return {
        arrived,
        abandoned,
        release(answer) {
          if (release) release(answer);
          else released = { answer };
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The double for the tests of the calling file (or `describe` block): started before its tests,
 * closed after them, its recorded calls emptied before each test. Returns a view whose fields are
 * read inside tests and hooks (not at module load, before the double runs).
 */
export function useAwsDouble(): AwsDouble {
  let running: AwsDouble | undefined;
  beforeAll(async () => {
    running = await startAwsDouble();
  });
  afterAll(async () => {
    const closing = running;
    running = undefined;
    await closing?.close();
  });
  beforeEach(() => {
    if (running) running.calls.length = 0;
  });
  return new Proxy({} as AwsDouble, {
    get: (_target, field) => {
      if (!running) throw new Error('the AWS double is read before its beforeAll or after its afterAll');
      return running[field as keyof AwsDouble];
    },
  });
}

function write(res: ServerResponse, answer: AwsAnswer): void {
  res.writeHead(answer.status ?? 200, { 'content-length': Buffer.byteLength(answer.body ?? ''), ...answer.headers });
  res.end(answer.body ?? '');
}

/** Environment for a process (or `process.env`) whose SDK clients should all talk to the double. */
export function awsDoubleEnv(endpoint: string, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_MAX_ATTEMPTS: '1',
  };
}
