/**
 * How the rehearsal sees the AWS calls a function makes, as IAM would: each request the functions
 * send to a stand-in (the AWS double of `test/support/aws-double.ts`, or a recording proxy in front
 * of dynalite and s3rver) becomes one or more {@link IamCall}s (action, resource ARN, condition
 * keys), attributed to the function by the access key its request is signed with.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCall } from '../support/aws-double.js';
import type { ContextValue } from './iam.js';
import type { IamCall } from './stack-model.js';

/** The SigV4 credential scope of a request: access key id, region and signing service. */
export interface SigV4Scope {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** Reads the credential scope from an `Authorization` header; undefined for an unsigned request. */
export function sigV4Scope(authorization: string | undefined): SigV4Scope | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1] as string, region: m[2] as string, service: m[3] as string } : undefined;
}

/** Where the rehearsal's requests are made: the fake account and partition. */
export interface CallScope {
  readonly accountId: string;
  readonly partition: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const orNull = (v: unknown): ContextValue => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The IAM calls of a request the AWS double answered (SQS, Firehose, Secrets Manager, API Gateway's
 * management API; another service gets `*` as its resource, so an unexpected call still shows, and
 * fails the check, by action): the request's own, and the `iam:PassRole` a request that hands a
 * role to the service implies. `secretArnOf` turns a `SecretId` (ARN or name) into the secret's full ARN.
 */
export function iamCallsOfDoubleCall(call: AwsCall, scope: CallScope, secretArnOf: (secretId: string) => string): IamCall[] {
  const region = sigV4Scope(call.headers.authorization)?.region ?? 'unsigned';
  const action = `${call.service}:${call.operation}`;
  const via = 'AWS double';
  switch (call.service) {
    case 'sqs': {
      const url = str(call.input.QueueUrl);
      if (url === undefined) return [{ action, resource: '*', context: {}, via }];
      // https://sqs.<region>.amazonaws.com/<account>/<name> (or the stand-in's origin, same path).
      const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
      return [{ action, resource: `arn:${scope.partition}:sqs:${region}:${account ?? '?'}:${name ?? '?'}`, context: {}, via }];
    }
    case 'firehose': {
      const arn = str(call.input.DeliveryStreamARN);
      const name = str(call.input.DeliveryStreamName);
      const resource = arn ?? (name === undefined ? '*' : `arn:${scope.partition}:firehose:${region}:${scope.accountId}:deliverystream/${name}`);
      return [{ action, resource, context: {}, via }];
    }
    case 'secretsmanager': {
      const id = str(call.input.SecretId);
      return [
        {
          action,
          resource: id === undefined ? '*' : secretArnOf(id),
          context: {
            'secretsmanager:SecretId': orNull(id),
            'secretsmanager:VersionId': orNull(call.input.VersionId),
            'secretsmanager:VersionStage': orNull(call.input.VersionStage),
          },
          via,
        },
      ];
    }
    case 'apigateway':
      return apiGatewayIamCalls(call.method, call.path, call.input, region, scope);
    default:
      return [{ action, resource: '*', context: {}, via, note: 'a service the rehearsal does not expect: resource not derived' }];
  }
}

/**
 * API Gateway's management API (REST): IAM's action is `apigateway:<HTTP method>` on
 * `arn:<partition>:apigateway:<region>::<path>` (e.g. `apigateway:PATCH` on `…::/account`).
 * UpdateAccount (`PATCH /account`) setting `/cloudwatchRoleArn` hands that role to API Gateway,
 * which IAM authorizes as `iam:PassRole` on the role with `iam:PassedToService` =
 * `apigateway.amazonaws.com`; the rehearsal records that as a call of its own.
 */
export function apiGatewayIamCalls(method: string, path: string, input: Record<string, unknown>, region: string, scope: CallScope): IamCall[] {
  const via = 'AWS double';
  const calls: IamCall[] = [{ action: `apigateway:${method}`, resource: `arn:${scope.partition}:apigateway:${region}::${path}`, context: {}, via }];
  if (method === 'PATCH' && path === '/account') {
    const operations = Array.isArray(input.patchOperations) ? (input.patchOperations as Array<Record<string, unknown>>) : [];
    for (const op of operations) {
      const role = str(op.value);
      if (op.path !== '/cloudwatchRoleArn' || (op.op !== 'replace' && op.op !== 'add') || role === undefined || role === '') continue;
      calls.push({
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'apigateway.amazonaws.com' },
        via,
        note: "UpdateAccount passes the account's CloudWatch Logs role to API Gateway",
      });
    }
  }
  return calls;
}

/**
 * The IAM calls of one DynamoDB request (JSON protocol, `X-Amz-Target: DynamoDB_20120810.<Op>`):
 * one per table (and index) it touches; a transaction item counts as its own action.
 */
export function dynamoDbIamCalls(target: string, body: Record<string, unknown>, region: string, scope: CallScope): IamCall[] {
  const op = target.slice(target.lastIndexOf('.') + 1);
  const table = (name: unknown, index?: unknown) =>
    `arn:${scope.partition}:dynamodb:${region}:${scope.accountId}:table/${String(name)}${typeof index === 'string' ? `/index/${index}` : ''}`;
  const context = {
    'dynamodb:ReturnValues': orNull(body.ReturnValues),
    'dynamodb:ReturnConsumedCapacity': orNull(body.ReturnConsumedCapacity),
    'dynamodb:Select': orNull(body.Select),
  };
  const via = 'dynalite proxy';
  const call = (action: string, resource: string): IamCall => ({ action: `dynamodb:${action}`, resource, context, via });
  switch (op) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems ?? {}) as object).map((name) => call(op, table(name)));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return ((body.TransactItems ?? []) as Array<Record<string, { TableName?: string }>>).flatMap((item) =>
        Object.entries(item).map(([kind, spec]) => call(actions[kind] ?? `${op}:${kind}`, table(spec.TableName))),
      );
    }
    case 'ListTables':
      return [call(op, '*')];
    default:
      if (typeof body.TableName !== 'string') return [{ ...call(op, '*'), note: 'no TableName: resource not derived' }];
      return [call(op, table(body.TableName, op === 'Query' || op === 'Scan' ? body.IndexName : undefined))];
  }
}

/** S3 subresources of a bucket request and the IAM action each needs (GET unless the key says otherwise). */
const BUCKET_SUBRESOURCES: Readonly<Record<string, string>> = {
  'GET versions': 's3:ListBucketVersions',
  'GET uploads': 's3:ListBucketMultipartUploads',
  'GET location': 's3:GetBucketLocation',
  'GET notification': 's3:GetBucketNotification',
  'PUT notification': 's3:PutBucketNotification',
  'GET versioning': 's3:GetBucketVersioning',
  'GET policy': 's3:GetBucketPolicy',
  'GET acl': 's3:GetBucketAcl',
  'GET tagging': 's3:GetBucketTagging',
};

/** S3 subresources of an object request and the IAM action each needs. */
const OBJECT_SUBRESOURCES: Readonly<Record<string, string>> = {
  'GET tagging': 's3:GetObjectTagging',
  'PUT tagging': 's3:PutObjectTagging',
  'GET acl': 's3:GetObjectAcl',
  'PUT acl': 's3:PutObjectAcl',
  'POST uploads': 's3:PutObject',
  'PUT uploadId': 's3:PutObject',
  'POST uploadId': 's3:PutObject',
  'DELETE uploadId': 's3:AbortMultipartUpload',
  'GET uploadId': 's3:ListMultipartUploadParts',
  'GET attributes': 's3:GetObjectAttributes',
};

/**
 * The IAM calls of one path-style S3 request (`/<bucket>[/<key>]?<query>`), and of what S3 checks
 * because of its answer: a `GetObject` or `HeadObject` of a missing key is answered `NoSuchKey`
 * (404) only when the caller may `s3:ListBucket`, and `403 AccessDenied` otherwise, so a 404 adds
 * that check. Its `s3:prefix` is taken to be the key: an assumption, the same one the fan-out's
 * prefix-scoped ListBucket grant makes (lib/constructs/inbox.ts).
 */
export function s3IamCalls(method: string, rawUrl: string, headers: IncomingHttpHeaders, status: number, scope: CallScope): IamCall[] {
  const url = new URL(rawUrl, 'http://s3');
  const [bucketPart, ...keyParts] = url.pathname.slice(1).split('/');
  const bucket = decodeURIComponent(bucketPart ?? '');
  const key = keyParts.map((p) => decodeURIComponent(p)).join('/');
  const bucketArn = `arn:${scope.partition}:s3:::${bucket}`;
  const q = url.searchParams;
  const header = (name: string): ContextValue => orNull(headers[name]);
  const common = {
    's3:authType': 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:ResourceAccount': scope.accountId,
    's3:x-amz-content-sha256': header('x-amz-content-sha256'),
  };
  const via = 's3rver proxy';
  const sub = (table: Readonly<Record<string, string>>) => [...q.keys()].map((k) => table[`${method} ${k}`]).find((a) => a !== undefined);
  const unmodelled = (): IamCall => ({
    action: `s3:<unmodelled ${method} ${url.pathname.split('/').length > 2 ? 'object' : 'bucket'} request ?${[...q.keys()].join('&')}>`,
    resource: key === '' ? bucketArn : `${bucketArn}/${key}`,
    context: common,
    via,
    note: 'the rehearsal does not map this S3 request to an action',
  });

  if (key === '') {
    const listing = [...q.keys()].every((k) =>
      [
        'list-type',
        'prefix',
        'delimiter',
        'max-keys',
        'continuation-token',
        'start-after',
        'encoding-type',
        'marker',
        'fetch-owner',
        'x-id',
      ].includes(k),
    );
    if ((method === 'GET' || method === 'HEAD') && listing) {
      return [
        {
          action: 's3:ListBucket',
          resource: bucketArn,
          context: {
            ...common,
            's3:prefix': q.get('prefix') ?? null,
            's3:delimiter': q.get('delimiter') ?? null,
            's3:max-keys': q.get('max-keys') ?? null,
          },
          via,
        },
      ];
    }
    const action = sub(BUCKET_SUBRESOURCES);
    return [action === undefined ? unmodelled() : { action, resource: bucketArn, context: common, via }];
  }

  const objectArn = `${bucketArn}/${key}`;
  const versioned = q.has('versionId');
  const objectContext = {
    ...common,
    's3:versionid': q.get('versionId') ?? null,
    's3:x-amz-server-side-encryption': header('x-amz-server-side-encryption'),
    's3:x-amz-server-side-encryption-aws-kms-key-id': header('x-amz-server-side-encryption-aws-kms-key-id'),
    's3:x-amz-acl': header('x-amz-acl'),
    's3:x-amz-storage-class': header('x-amz-storage-class'),
    's3:x-amz-copy-source': header('x-amz-copy-source'),
    's3:x-amz-metadata-directive': header('x-amz-metadata-directive'),
    's3:RequestObjectTagKeys': null,
  };
  // `x-id` names the SDK operation and `versionId` is the version: neither makes a subresource.
  if ([...q.keys()].some((k) => k !== 'x-id' && k !== 'versionId')) {
    const action = sub(OBJECT_SUBRESOURCES);
    return [action === undefined ? unmodelled() : { action, resource: objectArn, context: objectContext, via }];
  }
  switch (method) {
    case 'GET':
    case 'HEAD': {
      const calls: IamCall[] = [
        {
          action: versioned ? 's3:GetObjectVersion' : 's3:GetObject',
          resource: objectArn,
          context: objectContext,
          via,
          ...(method === 'HEAD' ? { note: 'HeadObject' } : {}),
        },
      ];
      if (status === 404) {
        calls.push({
          action: 's3:ListBucket',
          resource: bucketArn,
          context: { ...common, 's3:prefix': key, 's3:delimiter': null, 's3:max-keys': null },
          via,
          note: `S3 answers a missing key (${key}) with NoSuchKey only when the caller may s3:ListBucket, else 403`,
        });
      }
      return calls;
    }
    case 'PUT': {
      const copySource = headers['x-amz-copy-source'];
      const calls: IamCall[] = [{ action: 's3:PutObject', resource: objectArn, context: objectContext, via }];
      if (typeof copySource === 'string') {
        calls.push({
          action: 's3:GetObject',
          resource: `arn:${scope.partition}:s3:::${decodeURIComponent(copySource.replace(/^\//, '').split('?')[0] as string)}`,
          context: common,
          via,
          note: 'source of a CopyObject',
        });
      }
      return calls;
    }
    case 'DELETE':
      return [{ action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn, context: objectContext, via }];
    default:
      return [unmodelled()];
  }
}

/** One request a recording proxy passed on. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly status: number;
  readonly responseBody: Buffer;
}

/** A recorded call with the access key that signed it. */
export interface AttributedCall extends IamCall {
  readonly accessKeyId: string;
}

/** A reverse proxy in front of an emulator that records the IAM calls of what passes through. */
export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: AttributedCall[];
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a reverse proxy on loopback (port 0) to `target`: requests go through unchanged (the
 * `Host` header too, which the signature covers), and `classify` turns each exchange into IAM calls.
 */
export async function startRecordingProxy(target: string, classify: (exchange: ProxiedRequest) => IamCall[]): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: AttributedCall[] = [];
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          const exchange: ProxiedRequest = {
            method: req.method ?? 'GET',
            url: req.url ?? '/',
            headers: req.headers,
            body,
            status: up.statusCode ?? 0,
            responseBody: Buffer.concat(parts),
          };
          requests.push(exchange);
          const accessKeyId = sigV4Scope(req.headers.authorization)?.accessKeyId ?? 'unsigned';
          for (const call of classify(exchange)) calls.push({ ...call, accessKeyId });
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(exchange.responseBody);
        });
      });
      out.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`recording proxy: ${err.message}`);
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
