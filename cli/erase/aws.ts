/**
 * `erase --aws`: the deployed stack as an erasure target (cli/erase/target.ts). Its names come from
 * the stack's outputs (lib/stack-outputs.ts); its stores, in the order they are erased:
 *
 * 1. `event-store` (`./aws-tables.ts`): before the archive, which helps find its items, so an
 *    interrupted run still finds them;
 * 2. `handler-state` (`./aws-tables.ts`), when the stack has the example handlers' table;
 * 3. `archive` (`./aws-archive.ts`): objects rewritten by this one writer;
 * 4. `dead-letter-queue` (`./aws-dlq.ts`);
 * 5. `inbox` (`./aws-archive.ts`): copies of bodies, last, since the others check lines and
 *    messages against them.
 *
 * The IAM actions all of this needs are listed in docs/runbook.md, "Erasing a user".
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsClientConfig, readStackOutputs, requireOutput } from '../aws-stack.js';
import { CliError } from '../errors.js';
import type { SdkClients } from '../sdk-clients.js';
import { targetStackName } from '../stack-target.js';
import type { DayRange } from './aws-athena.js';
import { archiveStore, inboxStore } from './aws-archive.js';
import { deadLetterStore } from './aws-dlq.js';
import { s3ReceiptStore } from './aws-s3.js';
import { eventStore, handlerStateStore } from './aws-tables.js';
import type { ErasureStore, ErasureTarget } from './target.js';

export interface AwsErasureOptions {
  readonly stack?: string;
  readonly region?: string;
  /** First UTC day (`YYYY-MM-DD`) of the archive searched; default: its first. */
  readonly from?: string;
  /** Last UTC day searched; default: its last. */
  readonly to?: string;
}

/** The clients the target uses. */
export type ErasureAwsClients = SdkClients<'athena' | 'cloudFormation' | 'dynamodb' | 's3' | 'sqs'>;

/** What tests put in place of the real world: clients, Athena's wait, the clock. */
export interface AwsErasureInjection {
  readonly clients?: ErasureAwsClients;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `at` is a valid date on the UTC day `day` (so `2026-02-30`, which rolls over, is not). */
const sameDay = (at: Date, day: string) => !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === day;

/** Checks `--from` and `--to`: real dates, in order. */
export function dayRange(opts: Pick<AwsErasureOptions, 'from' | 'to'>): DayRange {
  for (const [flag, day] of [
    ['--from', opts.from],
    ['--to', opts.to],
  ] as const) {
    if (day !== undefined && (!DAY.test(day) || !sameDay(new Date(`${day}T00:00:00Z`), day)))
      throw new CliError(`${flag} must be a date YYYY-MM-DD, got '${day}'`);
  }
  if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new CliError(`--from ${opts.from} is after --to ${opts.to}`);
  return { ...(opts.from !== undefined ? { from: opts.from } : {}), ...(opts.to !== undefined ? { to: opts.to } : {}) };
}

/** Opens the deployed stack for erasure: reads its outputs and builds its stores. */
export async function openAwsErasureTarget(opts: AwsErasureOptions, inject: AwsErasureInjection = {}): Promise<ErasureTarget> {
  const range = dayRange(opts);
  const config = awsClientConfig(opts);
  const built = inject.clients === undefined;
  const clients: ErasureAwsClients = inject.clients ?? {
    athena: new AthenaClient(config),
    cloudFormation: new CloudFormationClient(config),
    dynamodb: new DynamoDBClient(config),
    s3: new S3Client(config),
    sqs: new SQSClient(config),
  };
  const close = async () => {
    if (!built) return;
    for (const client of Object.values(clients) as Array<{ destroy?: () => void }>) client.destroy?.();
  };
  try {
    const stackName = targetStackName(opts.stack);
    const outputs = await readStackOutputs(clients.cloudFormation, stackName);
    const output = (key: string) => requireOutput(outputs, key, stackName);
    const bucket = output(STACK_OUTPUTS.archiveBucket);
    const now = inject.now ?? (() => new Date());
    const where = {
      athena: clients.athena,
      workGroup: output(STACK_OUTPUTS.athenaWorkGroup),
      database: output(STACK_OUTPUTS.glueDatabase),
      sleep: inject.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    };
    const s3 = clients.s3;
    const stateTable = outputs[STACK_OUTPUTS.handlerStateTable];
    const stores: ErasureStore[] = [
      eventStore({ dynamodb: clients.dynamodb, table: output(STACK_OUTPUTS.eventTable), s3, bucket, where, range }),
      ...(stateTable ? [handlerStateStore(clients.dynamodb, stateTable)] : []),
      archiveStore({ s3, bucket, where, range }),
      deadLetterStore({ sqs: clients.sqs, queueUrl: output(STACK_OUTPUTS.deadLetterQueueUrl), s3, bucket, now }),
      inboxStore({ s3, bucket, range, now }),
    ];
    const region = opts.region ?? (await (clients.cloudFormation as CloudFormationClient).config?.region?.()) ?? 'the default region';
    return { description: `stack ${stackName} in ${region}`, stores, receipts: s3ReceiptStore(s3, bucket), close };
  } catch (err) {
    await close();
    throw err;
  }
}
